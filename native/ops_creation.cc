// Creation of tensors, conversion to and from JavaScript buffers, dtype and device moves.
#include "common.h"

#include <cstring>

namespace avid {

static at::ScalarType typedArrayDtype(napi_typedarray_type type) {
  switch (type) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_int32_array: return at::kInt;
    case napi_bigint64_array: return at::kLong;
    case napi_uint8_array: return at::kByte;
    case napi_uint8_clamped_array: return at::kByte;
    case napi_int8_array: return at::kChar;
    case napi_int16_array: return at::kShort;
    default: throw std::invalid_argument("unsupported typed array type");
  }
}

void registerCreation(Napi::Env env, Napi::Object exports) {
  // (shape, dtype?, device?)
  def(env, exports, "zeros", [](Args& a) { return a.ret(at::zeros(a.ints(0), a.options(1, 2))); });
  def(env, exports, "ones", [](Args& a) { return a.ret(at::ones(a.ints(0), a.options(1, 2))); });
  def(env, exports, "empty", [](Args& a) { return a.ret(at::empty(a.ints(0), a.options(1, 2))); });
  // (shape, value, dtype?, device?)
  def(env, exports, "full", [](Args& a) { return a.ret(at::full(a.ints(0), a.scalar(1), a.options(2, 3))); });
  // (start, end, step, dtype?, device?)
  def(env, exports, "arange", [](Args& a) {
    return a.ret(at::arange(a.scalar(0), a.scalar(1), a.scalar(2), a.options(3, 4, at::kLong)));
  });
  def(env, exports, "linspace", [](Args& a) {
    return a.ret(at::linspace(a.scalar(0), a.scalar(1), a.i64(2), a.options(3, 4)));
  });
  def(env, exports, "eye", [](Args& a) { return a.ret(at::eye(a.i64(0), a.options(1, 2))); });
  // (shape, generator?, dtype?, device?)
  def(env, exports, "rand", [](Args& a) { return a.ret(at::rand(a.ints(0), a.generator(1), a.options(2, 3))); });
  def(env, exports, "randn", [](Args& a) { return a.ret(at::randn(a.ints(0), a.generator(1), a.options(2, 3))); });
  // (low, high, shape, generator?, dtype?, device?)
  def(env, exports, "randint", [](Args& a) {
    return a.ret(at::randint(a.i64(0), a.i64(1), a.ints(2), a.generator(3), a.options(4, 5, at::kLong)));
  });
  // (n, generator?, dtype?, device?)
  def(env, exports, "randperm", [](Args& a) {
    return a.ret(at::randperm(a.i64(0), a.generator(1), a.options(2, 3, at::kLong)));
  });
  // (tensor, from, to, generator?) in place
  def(env, exports, "uniform_", [](Args& a) {
    a.tensor(0).uniform_(a.f64(1), a.f64(2), a.generator(3));
    return a.undefined();
  });
  def(env, exports, "normal_", [](Args& a) {
    a.tensor(0).normal_(a.f64(1), a.f64(2), a.generator(3));
    return a.undefined();
  });
  // (probabilities, generator?)
  def(env, exports, "bernoulli", [](Args& a) { return a.ret(at::bernoulli(a.tensor(0), a.generator(1))); });
  def(env, exports, "multinomial", [](Args& a) {
    return a.ret(at::multinomial(a.tensor(0), a.i64(1), a.flag(2), a.generator(3)));
  });

  // (typedArray, shape, dtype?) — copies the data, so the tensor owns its memory.
  def(env, exports, "fromTypedArray", [](Args& a) {
    if (!a.at(0).IsTypedArray()) throw std::invalid_argument("argument 0 must be a typed array");
    auto array = a.at(0).As<Napi::TypedArray>();
    at::ScalarType source = typedArrayDtype(array.TypedArrayType());
    auto shape = a.ints(1);
    int64_t n = 1;
    for (auto d : shape) n *= d;
    if (n != static_cast<int64_t>(array.ElementLength()))
      throw std::invalid_argument("data has " + std::to_string(array.ElementLength()) + " elements but shape needs " + std::to_string(n));
    auto buffer = array.ArrayBuffer();
    uint8_t* base = static_cast<uint8_t*>(buffer.Data()) + array.ByteOffset();
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(source));
    if (n > 0) std::memcpy(t.data_ptr(), base, array.ByteLength());
    if (a.has(2)) {
      at::ScalarType target = parseDtype(a.str(2));
      if (target != source) t = t.to(target);
    }
    return a.ret(t);
  });
  // (tensor) -> ArrayBuffer holding the contiguous CPU data.
  def(env, exports, "toArrayBuffer", [](Args& a) -> Napi::Value {
    at::Tensor t = a.tensor(0).detach();
    if (t.is_complex()) t = at::view_as_real(t);
    t = t.to(at::kCPU).contiguous();
    auto buffer = Napi::ArrayBuffer::New(a.env, t.nbytes());
    if (t.nbytes() > 0) std::memcpy(buffer.Data(), t.data_ptr(), t.nbytes());
    return buffer;
  });
  def(env, exports, "item", [](Args& a) -> Napi::Value {
    at::Tensor& t = a.tensor(0);
    if (t.numel() != 1) throw std::invalid_argument("item() needs a tensor with one element, got " + std::to_string(t.numel()));
    at::Scalar s = t.item();
    if (s.isBoolean()) return a.boolean(s.toBool());
    return a.number(s.toDouble());
  });
  def(env, exports, "shape", [](Args& a) -> Napi::Value {
    auto sizes = a.tensor(0).sizes();
    auto out = Napi::Array::New(a.env, sizes.size());
    for (size_t k = 0; k < sizes.size(); ++k) out.Set(static_cast<uint32_t>(k), Napi::Number::New(a.env, static_cast<double>(sizes[k])));
    return out;
  });
  def(env, exports, "dtype", [](Args& a) -> Napi::Value {
    return Napi::String::New(a.env, dtypeName(a.tensor(0).scalar_type()));
  });
  def(env, exports, "device", [](Args& a) -> Napi::Value { return Napi::String::New(a.env, a.tensor(0).device().str()); });
  def(env, exports, "isContiguous", [](Args& a) { return a.boolean(a.tensor(0).is_contiguous()); });
  // (tensor, dtype?, device?, nonBlocking?)
  def(env, exports, "to", [](Args& a) {
    at::Tensor& t = a.tensor(0);
    at::ScalarType dtype = a.dtypeOr(1, t.scalar_type());
    at::Device device = a.has(2) ? parseDevice(a.str(2)) : t.device();
    return a.ret(t.to(device, dtype, a.flagOr(3, false)));
  });
  def(env, exports, "pinMemory", [](Args& a) { return a.ret(a.tensor(0).pin_memory()); });
  def(env, exports, "clone", [](Args& a) { return a.ret(a.tensor(0).clone()); });
  // A second handle to the same tensor (shares storage and autograd identity).
  def(env, exports, "alias", [](Args& a) { return a.ret(a.tensor(0)); });
  def(env, exports, "zerosLike", [](Args& a) { return a.ret(at::zeros_like(a.tensor(0))); });
  def(env, exports, "onesLike", [](Args& a) { return a.ret(at::ones_like(a.tensor(0))); });
  def(env, exports, "fullLike", [](Args& a) { return a.ret(at::full_like(a.tensor(0), a.scalar(1))); });
  def(env, exports, "randLike", [](Args& a) {
    at::Tensor t = at::empty_like(a.tensor(0));
    t.uniform_(0, 1, a.generator(1));
    return a.ret(t);
  });
  def(env, exports, "randnLike", [](Args& a) {
    at::Tensor t = at::empty_like(a.tensor(0));
    t.normal_(0, 1, a.generator(1));
    return a.ret(t);
  });
  def(env, exports, "hannWindow", [](Args& a) {
    return a.ret(at::hann_window(a.i64(0), a.flagOr(1, true), a.options(2, 3)));
  });
}

}  // namespace avid
