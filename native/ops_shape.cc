// Views, indexing, joining and reordering.
#include "common.h"

namespace avid {

// Advanced-indexing arguments: one index tensor per leading dimension, null for a full slice.
static c10::List<c10::optional<at::Tensor>> indexList(Args& a, size_t i) {
  if (!a.at(i).IsArray()) throw std::invalid_argument("argument " + std::to_string(i) + " must be an array of index tensors or nulls");
  auto array = a.at(i).As<Napi::Array>();
  c10::List<c10::optional<at::Tensor>> indices;
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (v.IsNull() || v.IsUndefined()) indices.push_back(c10::nullopt);
    else indices.push_back(a.tensorOf(v, "argument " + std::to_string(i) + "[" + std::to_string(k) + "]"));
  }
  return indices;
}

void registerShape(Napi::Env env, Napi::Object exports) {
  def(env, exports, "reshape", [](Args& a) { return a.ret(a.tensor(0).reshape(a.ints(1))); });
  def(env, exports, "view", [](Args& a) { return a.ret(a.tensor(0).view(a.ints(1))); });
  def(env, exports, "permute", [](Args& a) { return a.ret(a.tensor(0).permute(a.ints(1))); });
  def(env, exports, "transpose", [](Args& a) { return a.ret(a.tensor(0).transpose(a.i64(1), a.i64(2))); });
  def(env, exports, "contiguous", [](Args& a) { return a.ret(a.tensor(0).contiguous()); });
  def(env, exports, "contiguous3d", [](Args& a) {
    return a.ret(a.tensor(0).contiguous(at::MemoryFormat::ChannelsLast3d));
  });
  def(env, exports, "narrow", [](Args& a) { return a.ret(a.tensor(0).narrow(a.i64(1), a.i64(2), a.i64(3))); });
  // (tensor, dim, start?, end?, step?)
  def(env, exports, "slice", [](Args& a) {
    c10::optional<int64_t> start = a.optI64(2), end = a.optI64(3);
    return a.ret(a.tensor(0).slice(a.i64(1), start, end, a.i64Or(4, 1)));
  });
  def(env, exports, "select", [](Args& a) { return a.ret(a.tensor(0).select(a.i64(1), a.i64(2))); });
  def(env, exports, "indexSelect", [](Args& a) { return a.ret(at::index_select(a.tensor(0), a.i64(1), a.tensor(2))); });
  def(env, exports, "indexCopy_", [](Args& a) {
    a.tensor(0).index_copy_(a.i64(1), a.tensor(2), a.tensor(3));
    return a.undefined();
  });
  def(env, exports, "indexAdd_", [](Args& a) {
    a.tensor(0).index_add_(a.i64(1), a.tensor(2), a.tensor(3), a.scalarOr(4, 1));
    return a.undefined();
  });
  def(env, exports, "indexFill_", [](Args& a) {
    a.tensor(0).index_fill_(a.i64(1), a.tensor(2), a.scalar(3));
    return a.undefined();
  });
  // Advanced indexing along the leading dimensions with a list of index tensors (null = full slice).
  def(env, exports, "index", [](Args& a) { return a.ret(at::index(a.tensor(0), indexList(a, 1))); });
  def(env, exports, "indexPut_", [](Args& a) {
    a.tensor(0).index_put_(indexList(a, 1), a.tensor(2), a.flagOr(3, false));
    return a.undefined();
  });
  def(env, exports, "gather", [](Args& a) { return a.ret(at::gather(a.tensor(0), a.i64(1), a.tensor(2))); });
  // (x, dim, index, src) with a tensor src; scatterScalar takes a number instead.
  def(env, exports, "scatter", [](Args& a) { return a.ret(at::scatter(a.tensor(0), a.i64(1), a.tensor(2), a.tensor(3))); });
  def(env, exports, "scatterScalar", [](Args& a) { return a.ret(at::scatter(a.tensor(0), a.i64(1), a.tensor(2), a.scalar(3))); });
  def(env, exports, "scatter_", [](Args& a) { a.tensor(0).scatter_(a.i64(1), a.tensor(2), a.tensor(3)); return a.undefined(); });
  def(env, exports, "scatterScalar_", [](Args& a) { a.tensor(0).scatter_(a.i64(1), a.tensor(2), a.scalar(3)); return a.undefined(); });
  def(env, exports, "maskedFill_", [](Args& a) { a.tensor(0).masked_fill_(a.tensor(1), a.scalar(2)); return a.undefined(); });
  def(env, exports, "scatterAdd", [](Args& a) { return a.ret(at::scatter_add(a.tensor(0), a.i64(1), a.tensor(2), a.tensor(3))); });
  def(env, exports, "maskedFill", [](Args& a) { return a.ret(at::masked_fill(a.tensor(0), a.tensor(1), a.scalar(2))); });
  def(env, exports, "maskedSelect", [](Args& a) { return a.ret(at::masked_select(a.tensor(0), a.tensor(1))); });
  def(env, exports, "nonzero", [](Args& a) { return a.ret(at::nonzero(a.tensor(0))); });
  def(env, exports, "cat", [](Args& a) { return a.ret(at::cat(a.tensors(0), a.i64Or(1, 0))); });
  def(env, exports, "stack", [](Args& a) { return a.ret(at::stack(a.tensors(0), a.i64Or(1, 0))); });
  def(env, exports, "split", [](Args& a) { return a.ret(at::split(a.tensor(0), a.i64(1), a.i64Or(2, 0))); });
  def(env, exports, "chunk", [](Args& a) { return a.ret(at::chunk(a.tensor(0), a.i64(1), a.i64Or(2, 0))); });
  def(env, exports, "unbind", [](Args& a) { return a.ret(at::unbind(a.tensor(0), a.i64Or(1, 0))); });
  def(env, exports, "expand", [](Args& a) { return a.ret(a.tensor(0).expand(a.ints(1))); });
  def(env, exports, "repeat", [](Args& a) { return a.ret(a.tensor(0).repeat(a.ints(1))); });
  def(env, exports, "repeatInterleave", [](Args& a) {
    return a.ret(at::repeat_interleave(a.tensor(0), a.i64(1), a.optI64(2)));
  });
  def(env, exports, "squeeze", [](Args& a) {
    return a.ret(a.has(1) ? a.tensor(0).squeeze(a.i64(1)) : a.tensor(0).squeeze());
  });
  def(env, exports, "unsqueeze", [](Args& a) { return a.ret(a.tensor(0).unsqueeze(a.i64(1))); });
  def(env, exports, "flatten", [](Args& a) { return a.ret(a.tensor(0).flatten(a.i64Or(1, 0), a.i64Or(2, -1))); });
  def(env, exports, "flip", [](Args& a) { return a.ret(at::flip(a.tensor(0), a.ints(1))); });
  def(env, exports, "roll", [](Args& a) { return a.ret(at::roll(a.tensor(0), a.ints(1), a.ints(2))); });
  def(env, exports, "tril", [](Args& a) { return a.ret(at::tril(a.tensor(0), a.i64Or(1, 0))); });
  def(env, exports, "triu", [](Args& a) { return a.ret(at::triu(a.tensor(0), a.i64Or(1, 0))); });
  // (tensor, pads [last dim first, as torch.nn.functional.pad], mode?, value?)
  def(env, exports, "pad", [](Args& a) {
    std::string mode = a.has(2) ? a.str(2) : "constant";
    c10::optional<double> value = a.has(3) ? c10::optional<double>(a.f64(3)) : c10::nullopt;
    return a.ret(at::pad(a.tensor(0), a.ints(1), mode, value));
  });
}

}  // namespace avid
