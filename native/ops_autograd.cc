// Autograd: gradient requirements, backward, gradients and grad mode.
#include "common.h"

#include <ATen/core/grad_mode.h>

namespace avid {

void registerAutograd(Napi::Env env, Napi::Object exports) {
  def(env, exports, "setRequiresGrad", [](Args& a) { a.tensor(0).set_requires_grad(a.flag(1)); return a.undefined(); });
  def(env, exports, "requiresGrad", [](Args& a) { return a.boolean(a.tensor(0).requires_grad()); });
  // (loss, gradient?, retainGraph?)
  def(env, exports, "backward", [](Args& a) {
    c10::optional<bool> retain = a.has(2) ? c10::optional<bool>(a.flag(2)) : c10::nullopt;
    at::Tensor gradient = a.has(1) ? a.tensor(1) : at::Tensor();
    a.tensor(0).backward(gradient, retain, false);
    return a.undefined();
  });
  def(env, exports, "grad", [](Args& a) { return a.ret(a.tensor(0).grad()); });
  def(env, exports, "setGrad", [](Args& a) {
    if (a.has(1)) a.tensor(0).mutable_grad() = a.tensor(1);
    else a.tensor(0).mutable_grad().reset();
    return a.undefined();
  });
  def(env, exports, "retainGrad", [](Args& a) { a.tensor(0).retain_grad(); return a.undefined(); });
  def(env, exports, "isLeaf", [](Args& a) { return a.boolean(a.tensor(0).is_leaf()); });
  def(env, exports, "detach", [](Args& a) { return a.ret(a.tensor(0).detach()); });
  def(env, exports, "detach_", [](Args& a) { a.tensor(0).detach_(); return a.undefined(); });
  def(env, exports, "isGradEnabled", [](Args& a) { return a.boolean(at::GradMode::is_enabled()); });
  def(env, exports, "setGradEnabled", [](Args& a) { at::GradMode::set_enabled(a.flag(0)); return a.undefined(); });
}

}  // namespace avid
