// Element-wise arithmetic, comparisons and activations, with in-place variants where training needs them.
#include "common.h"

namespace avid {

#define UNARY(name, expr) def(env, exports, name, [](Args& a) { const at::Tensor& x = a.tensor(0); return a.ret(expr); })
#define INPLACE_UNARY(name, expr) def(env, exports, name, [](Args& a) { at::Tensor& x = a.tensor(0); expr; return a.undefined(); })
// A second operand that is a tensor (`name`) or a number (`nameScalar`): handles are numbers too, so the
// JavaScript side picks the entry point.
#define BINARY(name, fn) \
  def(env, exports, name, [](Args& a) { return a.ret(fn(a.tensor(0), a.tensor(1))); }); \
  def(env, exports, name "Scalar", [](Args& a) { return a.ret(fn(a.tensor(0), a.scalar(1))); })
#define INPLACE_BINARY(name, method) \
  def(env, exports, name "_", [](Args& a) { a.tensor(0).method(a.tensor(1)); return a.undefined(); }); \
  def(env, exports, name "Scalar_", [](Args& a) { a.tensor(0).method(a.scalar(1)); return a.undefined(); })
// (x, y, alpha?): x + alpha * y as PyTorch's add/sub; alpha is left out when it is 1.
#define ALPHA_BINARY(name, fn, method) \
  def(env, exports, name, [](Args& a) { \
    if (!a.has(2)) return a.ret(fn(a.tensor(0), a.tensor(1))); \
    return a.ret(fn(a.tensor(0), a.tensor(1), a.scalar(2))); }); \
  def(env, exports, name "Scalar", [](Args& a) { return a.ret(fn(a.tensor(0), a.scalar(1), a.scalarOr(2, 1))); }); \
  def(env, exports, name "_", [](Args& a) { a.tensor(0).method(a.tensor(1), a.scalarOr(2, 1)); return a.undefined(); }); \
  def(env, exports, name "Scalar_", [](Args& a) { a.tensor(0).method(a.scalar(1), a.scalarOr(2, 1)); return a.undefined(); })

void registerPointwise(Napi::Env env, Napi::Object exports) {
  ALPHA_BINARY("add", at::add, add_);
  ALPHA_BINARY("sub", at::sub, sub_);
  BINARY("mul", at::mul);
  BINARY("div", at::div);
  BINARY("pow", at::pow);
  BINARY("remainder", at::remainder);
  BINARY("fmod", at::fmod);
  BINARY("eq", at::eq);
  BINARY("ne", at::ne);
  BINARY("lt", at::lt);
  BINARY("le", at::le);
  BINARY("gt", at::gt);
  BINARY("ge", at::ge);
  INPLACE_BINARY("mul", mul_);
  INPLACE_BINARY("div", div_);
  INPLACE_BINARY("pow", pow_);
  def(env, exports, "minimum", [](Args& a) { return a.ret(at::minimum(a.tensor(0), a.tensor(1))); });
  def(env, exports, "maximum", [](Args& a) { return a.ret(at::maximum(a.tensor(0), a.tensor(1))); });
  // In place, for large score matrices where a second copy would double the memory traffic.
  def(env, exports, "minimum_", [](Args& a) { at::minimum_out(a.tensor(0), a.tensor(0), a.tensor(1)); return a.undefined(); });
  def(env, exports, "maximum_", [](Args& a) { at::maximum_out(a.tensor(0), a.tensor(0), a.tensor(1)); return a.undefined(); });
  def(env, exports, "atan2", [](Args& a) { return a.ret(at::atan2(a.tensor(0), a.tensor(1))); });
  def(env, exports, "logicalAnd", [](Args& a) { return a.ret(at::logical_and(a.tensor(0), a.tensor(1))); });
  def(env, exports, "logicalOr", [](Args& a) { return a.ret(at::logical_or(a.tensor(0), a.tensor(1))); });
  // (condition, a, b): each of a and b a tensor or a number, one entry point per combination.
  def(env, exports, "where", [](Args& a) { return a.ret(at::where(a.tensor(0), a.tensor(1), a.tensor(2))); });
  def(env, exports, "whereScalarB", [](Args& a) { return a.ret(at::where(a.tensor(0), a.tensor(1), a.scalar(2))); });
  def(env, exports, "whereScalarA", [](Args& a) { return a.ret(at::where(a.tensor(0), a.scalar(1), a.tensor(2))); });
  def(env, exports, "whereScalars", [](Args& a) { return a.ret(at::where(a.tensor(0), a.scalar(1), a.scalar(2))); });
  // (x, min?, max?) — null leaves that side open.
  def(env, exports, "clamp", [](Args& a) {
    c10::optional<at::Scalar> lo = a.has(1) ? c10::optional<at::Scalar>(a.scalar(1)) : c10::nullopt;
    c10::optional<at::Scalar> hi = a.has(2) ? c10::optional<at::Scalar>(a.scalar(2)) : c10::nullopt;
    return a.ret(at::clamp(a.tensor(0), lo, hi));
  });
  def(env, exports, "clamp_", [](Args& a) {
    c10::optional<at::Scalar> lo = a.has(1) ? c10::optional<at::Scalar>(a.scalar(1)) : c10::nullopt;
    c10::optional<at::Scalar> hi = a.has(2) ? c10::optional<at::Scalar>(a.scalar(2)) : c10::nullopt;
    a.tensor(0).clamp_(lo, hi);
    return a.undefined();
  });
  def(env, exports, "lerp", [](Args& a) { return a.ret(at::lerp(a.tensor(0), a.tensor(1), a.scalar(2))); });
  def(env, exports, "lerp_", [](Args& a) { a.tensor(0).lerp_(a.tensor(1), a.scalar(2)); return a.undefined(); });
  def(env, exports, "addcmul_", [](Args& a) { a.tensor(0).addcmul_(a.tensor(1), a.tensor(2), a.scalarOr(3, 1)); return a.undefined(); });
  def(env, exports, "addcdiv_", [](Args& a) { a.tensor(0).addcdiv_(a.tensor(1), a.tensor(2), a.scalarOr(3, 1)); return a.undefined(); });
  def(env, exports, "copy_", [](Args& a) { a.tensor(0).copy_(a.tensor(1)); return a.undefined(); });
  def(env, exports, "fill_", [](Args& a) { a.tensor(0).fill_(a.scalar(1)); return a.undefined(); });
  INPLACE_UNARY("zero_", x.zero_());
  INPLACE_UNARY("relu_", x.relu_());
  INPLACE_UNARY("sqrt_", x.sqrt_());
  INPLACE_UNARY("exp_", x.exp_());
  INPLACE_UNARY("neg_", x.neg_());
  UNARY("exp", at::exp(x));
  UNARY("log", at::log(x));
  UNARY("log1p", at::log1p(x));
  UNARY("sqrt", at::sqrt(x));
  UNARY("rsqrt", at::rsqrt(x));
  UNARY("abs", at::abs(x));
  UNARY("neg", at::neg(x));
  UNARY("sign", at::sign(x));
  UNARY("square", at::square(x));
  UNARY("reciprocal", at::reciprocal(x));
  UNARY("sin", at::sin(x));
  UNARY("cos", at::cos(x));
  UNARY("floor", at::floor(x));
  UNARY("ceil", at::ceil(x));
  UNARY("round", at::round(x));
  UNARY("relu", at::relu(x));
  UNARY("sigmoid", at::sigmoid(x));
  UNARY("tanh", at::tanh(x));
  UNARY("logSigmoid", at::log_sigmoid(x));
  UNARY("softplus", at::softplus(x));
  UNARY("logicalNot", at::logical_not(x));
  UNARY("isnan", at::isnan(x));
  UNARY("isfinite", at::isfinite(x));
  UNARY("real", at::real(x));
  UNARY("imag", at::imag(x));
}

}  // namespace avid
