// Neural-network functions: convolutions, normalisation, pooling, losses and signal processing.
#include "common.h"

namespace avid {

void registerNN(Napi::Env env, Napi::Object exports) {
  // (x, weight, bias?, stride, padding, dilation, groups)
  def(env, exports, "conv2d", [](Args& a) {
    return a.ret(at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.i64Or(6, 1)));
  });
  def(env, exports, "conv3d", [](Args& a) {
    return a.ret(at::conv3d(a.tensor(0), a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.i64Or(6, 1)));
  });
  // (x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps); running stats update in place.
  def(env, exports, "batchNorm", [](Args& a) {
    return a.ret(at::batch_norm(a.tensor(0), a.optTensor(1), a.optTensor(2), a.optTensor(3), a.optTensor(4), a.flag(5),
                                a.f64(6), a.f64(7), true));
  });
  def(env, exports, "linear", [](Args& a) { return a.ret(at::linear(a.tensor(0), a.tensor(1), a.optTensor(2))); });
  // (x, kernel, stride, padding, dilation, ceilMode)
  def(env, exports, "maxPool2d", [](Args& a) {
    return a.ret(at::max_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.flagOr(5, false)));
  });
  def(env, exports, "maxPool3d", [](Args& a) {
    return a.ret(at::max_pool3d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.flagOr(5, false)));
  });
  def(env, exports, "adaptiveMaxPool2d", [](Args& a) { return a.ret(std::get<0>(at::adaptive_max_pool2d(a.tensor(0), a.ints(1)))); });
  def(env, exports, "adaptiveMaxPool3d", [](Args& a) { return a.ret(std::get<0>(at::adaptive_max_pool3d(a.tensor(0), a.ints(1)))); });
  def(env, exports, "adaptiveAvgPool2d", [](Args& a) { return a.ret(at::adaptive_avg_pool2d(a.tensor(0), a.ints(1))); });
  def(env, exports, "adaptiveAvgPool3d", [](Args& a) { return a.ret(at::adaptive_avg_pool3d(a.tensor(0), a.ints(1))); });
  // (x, kernel, stride, padding, ceilMode, countIncludePad)
  def(env, exports, "avgPool2d", [](Args& a) {
    return a.ret(at::avg_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.flagOr(4, false), a.flagOr(5, true)));
  });
  def(env, exports, "avgPool3d", [](Args& a) {
    return a.ret(at::avg_pool3d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.flagOr(4, false), a.flagOr(5, true)));
  });
  def(env, exports, "avgPool1d", [](Args& a) {
    return a.ret(at::avg_pool1d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.flagOr(4, false), a.flagOr(5, true)));
  });
  def(env, exports, "dropout", [](Args& a) { return a.ret(at::dropout(a.tensor(0), a.f64(1), a.flag(2))); });
  def(env, exports, "logSoftmax", [](Args& a) { return a.ret(at::log_softmax(a.tensor(0), a.i64(1))); });
  def(env, exports, "softmax", [](Args& a) { return a.ret(at::softmax(a.tensor(0), a.i64(1))); });
  // reduction: 0 none, 1 mean, 2 sum (at::Reduction)
  def(env, exports, "crossEntropy", [](Args& a) {
    return a.ret(at::cross_entropy_loss(a.tensor(0), a.tensor(1), a.optTensor(2), a.i64Or(3, 1), -100, a.f64Or(4, 0.0)));
  });
  def(env, exports, "nllLoss", [](Args& a) {
    return a.ret(at::nll_loss(a.tensor(0), a.tensor(1), a.optTensor(2), a.i64Or(3, 1), -100));
  });
  def(env, exports, "mseLoss", [](Args& a) { return a.ret(at::mse_loss(a.tensor(0), a.tensor(1), a.i64Or(2, 1))); });
  def(env, exports, "bceWithLogits", [](Args& a) {
    return a.ret(at::binary_cross_entropy_with_logits(a.tensor(0), a.tensor(1), a.optTensor(2), a.optTensor(3), a.i64Or(4, 1)));
  });
  // torch.nn.functional.normalize: x / max(||x||_p, eps) along dim.
  def(env, exports, "normalize", [](Args& a) {
    const at::Tensor& x = a.tensor(0);
    at::Tensor norm = at::linalg_vector_norm(x, a.scalarOr(1, 2.0), at::IntArrayRef{a.i64Or(2, 1)}, true);
    return a.ret(x / norm.clamp_min(a.f64Or(3, 1e-12)).expand_as(x));
  });
  // (x, nFft, hop, win, window?, center, normalized, onesided) -> complex spectrum
  def(env, exports, "stft", [](Args& a) {
    return a.ret(at::stft(a.tensor(0), a.i64(1), a.optI64(2), a.optI64(3), a.optTensor(4), a.flagOr(5, true), "reflect",
                          a.flagOr(6, false), a.flagOr(7, true), true));
  });
  // (x, size, mode, alignCorners): linear (N,C,L), bilinear (N,C,H,W), trilinear (N,C,D,H,W), nearest.
  def(env, exports, "interpolate", [](Args& a) {
    const at::Tensor& x = a.tensor(0);
    auto size = a.ints(1);
    std::string mode = a.str(2);
    bool align = a.flagOr(3, false);
    if (mode == "linear") return a.ret(at::upsample_linear1d(x, size, align));
    if (mode == "bilinear") return a.ret(at::upsample_bilinear2d(x, size, align));
    if (mode == "trilinear") return a.ret(at::upsample_trilinear3d(x, size, align));
    if (mode == "nearest") {
      if (size.size() == 1) return a.ret(at::upsample_nearest1d(x, size));
      if (size.size() == 2) return a.ret(at::upsample_nearest2d(x, size));
      return a.ret(at::upsample_nearest3d(x, size));
    }
    throw std::invalid_argument("unknown interpolation mode '" + mode + "' (allowed: linear, bilinear, trilinear, nearest)");
  });
}

}  // namespace avid
