// Optimizer updates done natively over whole parameter lists: one call per step instead of a dozen small
// calls per parameter, and no temporary tensors visible to JavaScript.
#include "common.h"

#include <ATen/core/grad_mode.h>
#include <cmath>

namespace avid {

void registerOptim(Napi::Env env, Napi::Object exports) {
  // (params, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled)
  // Adam (decoupled=false: L2 added to the gradient, as torch.optim.Adam) or AdamW (decoupled=true).
  def(env, exports, "adamStep", [](Args& a) {
    at::NoGradGuard noGrad;
    auto params = a.tensors(0), expAvg = a.tensors(1), expAvgSq = a.tensors(2);
    double step = a.f64(3), lr = a.f64(4), beta1 = a.f64(5), beta2 = a.f64(6), eps = a.f64(7), wd = a.f64(8);
    bool decoupled = a.flag(9);
    double bias1 = 1 - std::pow(beta1, step), bias2 = 1 - std::pow(beta2, step);
    double stepSize = lr / bias1, bias2Sqrt = std::sqrt(bias2);
    for (size_t k = 0; k < params.size(); ++k) {
      at::Tensor& p = params[k];
      const at::Tensor& g0 = p.grad();
      if (!g0.defined()) continue;
      at::Tensor g = g0;
      if (wd != 0) {
        if (decoupled) p.mul_(1 - lr * wd);
        else g = g.add(p, wd);
      }
      expAvg[k].lerp_(g, 1 - beta1);
      expAvgSq[k].mul_(beta2).addcmul_(g, g, 1 - beta2);
      at::Tensor denom = (expAvgSq[k].sqrt() / bias2Sqrt).add_(eps);
      p.addcdiv_(expAvg[k], denom, -stepSize);
    }
    return a.undefined();
  });
  // (params, momentumBuffers, lr, momentum, dampening, weightDecay, nesterov, firstStep)
  def(env, exports, "sgdStep", [](Args& a) {
    at::NoGradGuard noGrad;
    auto params = a.tensors(0), buffers = a.tensors(1);
    double lr = a.f64(2), momentum = a.f64(3), dampening = a.f64(4), wd = a.f64(5);
    bool nesterov = a.flag(6), first = a.flag(7);
    for (size_t k = 0; k < params.size(); ++k) {
      at::Tensor& p = params[k];
      if (!p.grad().defined()) continue;
      at::Tensor g = p.grad();
      if (wd != 0) g = g.add(p, wd);
      if (momentum != 0) {
        if (first) buffers[k].copy_(g);
        else buffers[k].mul_(momentum).add_(g, 1 - dampening);
        g = nesterov ? g.add(buffers[k], momentum) : buffers[k];
      }
      p.add_(g, -lr);
    }
    return a.undefined();
  });
  // (params, maxNorm) -> total norm before clipping (as torch.nn.utils.clip_grad_norm_).
  def(env, exports, "clipGradNorm", [](Args& a) {
    at::NoGradGuard noGrad;
    auto params = a.tensors(0);
    double maxNorm = a.f64(1);
    std::vector<at::Tensor> norms;
    for (auto& p : params)
      if (p.grad().defined()) norms.push_back(at::linalg_vector_norm(p.grad(), 2));
    if (norms.empty()) return a.number(0);
    double total = at::linalg_vector_norm(at::stack(norms), 2).item<double>();
    double coef = maxNorm / (total + 1e-6);
    if (coef < 1)
      for (auto& p : params)
        if (p.grad().defined()) p.mutable_grad().mul_(coef);
    return a.number(total);
  });
  def(env, exports, "zeroGrads", [](Args& a) {
    auto params = a.tensors(0);
    for (auto& p : params) p.mutable_grad().reset();
    return a.undefined();
  });
}

}  // namespace avid
