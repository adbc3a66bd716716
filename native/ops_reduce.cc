// Reductions, sorting and linear algebra.
#include "common.h"

namespace avid {

// Reductions take (x, dims?, keepdim?): no dims reduces over everything.
static at::OptionalIntArrayRef dimsOf(Args& a, size_t i, std::vector<int64_t>& storage) {
  if (!a.has(i)) return c10::nullopt;
  storage = a.ints(i);
  return at::IntArrayRef(storage);
}

void registerReduce(Napi::Env env, Napi::Object exports) {
  def(env, exports, "sum", [](Args& a) {
    std::vector<int64_t> d;
    auto dims = dimsOf(a, 1, d);
    return a.ret(at::sum(a.tensor(0), dims, a.flagOr(2, false), a.optDtype(3)));
  });
  def(env, exports, "mean", [](Args& a) {
    std::vector<int64_t> d;
    auto dims = dimsOf(a, 1, d);
    return a.ret(at::mean(a.tensor(0), dims, a.flagOr(2, false), a.optDtype(3)));
  });
  def(env, exports, "prod", [](Args& a) { return a.ret(at::prod(a.tensor(0))); });
  def(env, exports, "cumsum", [](Args& a) { return a.ret(at::cumsum(a.tensor(0), a.i64(1))); });
  // (x, dims?, unbiased?, keepdim?)
  def(env, exports, "std", [](Args& a) {
    std::vector<int64_t> d;
    auto dims = dimsOf(a, 1, d);
    return a.ret(at::std(a.tensor(0), dims, a.flagOr(2, true), a.flagOr(3, false)));
  });
  def(env, exports, "var", [](Args& a) {
    std::vector<int64_t> d;
    auto dims = dimsOf(a, 1, d);
    return a.ret(at::var(a.tensor(0), dims, a.flagOr(2, true), a.flagOr(3, false)));
  });
  // (x, p, dims?, keepdim?)
  def(env, exports, "norm", [](Args& a) {
    std::vector<int64_t> d;
    auto dims = dimsOf(a, 2, d);
    return a.ret(at::linalg_vector_norm(a.tensor(0), a.scalarOr(1, 2.0), dims, a.flagOr(3, false)));
  });
  def(env, exports, "logsumexp", [](Args& a) { return a.ret(at::logsumexp(a.tensor(0), a.ints(1), a.flagOr(2, false))); });
  // max/min: without a dim, the scalar extreme; with one, [values, indices].
  def(env, exports, "max", [](Args& a) {
    if (!a.has(1)) return a.ret(at::max(a.tensor(0)));
    return a.ret(at::max(a.tensor(0), a.i64(1), a.flagOr(2, false)));
  });
  def(env, exports, "min", [](Args& a) {
    if (!a.has(1)) return a.ret(at::min(a.tensor(0)));
    return a.ret(at::min(a.tensor(0), a.i64(1), a.flagOr(2, false)));
  });
  def(env, exports, "amax", [](Args& a) { return a.ret(at::amax(a.tensor(0), a.ints(1), a.flagOr(2, false))); });
  def(env, exports, "amin", [](Args& a) { return a.ret(at::amin(a.tensor(0), a.ints(1), a.flagOr(2, false))); });
  def(env, exports, "argmax", [](Args& a) { return a.ret(at::argmax(a.tensor(0), a.optI64(1), a.flagOr(2, false))); });
  def(env, exports, "argmin", [](Args& a) { return a.ret(at::argmin(a.tensor(0), a.optI64(1), a.flagOr(2, false))); });
  def(env, exports, "all", [](Args& a) { return a.ret(at::all(a.tensor(0))); });
  def(env, exports, "any", [](Args& a) { return a.ret(at::any(a.tensor(0))); });
  // (x, k, dim?, largest?, sorted?) -> [values, indices]
  def(env, exports, "topk", [](Args& a) {
    return a.ret(at::topk(a.tensor(0), a.i64(1), a.i64Or(2, -1), a.flagOr(3, true), a.flagOr(4, true)));
  });
  // (x, dim?, descending?) -> [values, indices]
  def(env, exports, "sort", [](Args& a) { return a.ret(at::sort(a.tensor(0), a.i64Or(1, -1), a.flagOr(2, false))); });
  def(env, exports, "argsort", [](Args& a) { return a.ret(at::argsort(a.tensor(0), a.i64Or(1, -1), a.flagOr(2, false))); });
  def(env, exports, "matmul", [](Args& a) { return a.ret(at::matmul(a.tensor(0), a.tensor(1))); });
  def(env, exports, "mm", [](Args& a) { return a.ret(at::mm(a.tensor(0), a.tensor(1))); });
  def(env, exports, "bmm", [](Args& a) { return a.ret(at::bmm(a.tensor(0), a.tensor(1))); });
  // (input, mat1, mat2, beta?, alpha?)
  def(env, exports, "addmm", [](Args& a) {
    return a.ret(at::addmm(a.tensor(0), a.tensor(1), a.tensor(2), a.scalarOr(3, 1), a.scalarOr(4, 1)));
  });
  def(env, exports, "outer", [](Args& a) { return a.ret(at::outer(a.tensor(0), a.tensor(1))); });
  def(env, exports, "einsum", [](Args& a) { return a.ret(at::einsum(a.str(0), a.tensors(1))); });
}

}  // namespace avid
