#include "common.h"

#include <c10/util/Exception.h>

namespace avid {

std::atomic<int64_t> liveTensors{0};
std::atomic<int64_t> liveBytes{0};

static const napi_type_tag kTensorTag = {0x6176696474656e73ULL, 0x6f72686f6c646572ULL};
static const napi_type_tag kGeneratorTag = {0x6176696467656e65ULL, 0x7261746f72686f6cULL};

static int64_t storageBytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// Small tensors are not reported to V8's external-memory accounting: the call costs about as much as a tiny
// op, and only large buffers matter for when the garbage collector runs.
static constexpr int64_t kExternalMemoryThreshold = 16 * 1024;

void Holder::release(Napi::Env env) {
  if (!tensor.defined()) return;
  tensor.reset();
  liveTensors.fetch_sub(1);
  liveBytes.fetch_sub(accountedBytes);
  if (accountedBytes >= kExternalMemoryThreshold) Napi::MemoryManagement::AdjustExternalMemory(env, -accountedBytes);
  accountedBytes = 0;
}

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* holder = new Holder();
  holder->accountedBytes = storageBytes(tensor);
  holder->tensor = std::move(tensor);
  liveTensors.fetch_add(1);
  liveBytes.fetch_add(holder->accountedBytes);
  if (holder->accountedBytes >= kExternalMemoryThreshold) Napi::MemoryManagement::AdjustExternalMemory(env, holder->accountedBytes);
  auto external = Napi::External<Holder>::New(env, holder, [](Napi::Env env, Holder* h) {
    h->release(env);
    delete h;
  });
  external.TypeTag(&kTensorTag);
  return external;
}

Napi::Value wrapGenerator(Napi::Env env, at::Generator generator) {
  auto* holder = new GeneratorHolder{std::move(generator)};
  auto external = Napi::External<GeneratorHolder>::New(env, holder, [](Napi::Env, GeneratorHolder* h) { delete h; });
  external.TypeTag(&kGeneratorTag);
  return external;
}

bool isTensorHandle(Napi::Value value) {
  return value.IsExternal() && value.As<Napi::External<Holder>>().CheckTypeTag(&kTensorTag);
}

Holder* unwrapHolder(Napi::Value value, const char* what) {
  if (!isTensorHandle(value)) throw std::invalid_argument(std::string(what) + " is not a tensor");
  return value.As<Napi::External<Holder>>().Data();
}

at::ScalarType parseDtype(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "float64") return at::kDouble;
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "int32") return at::kInt;
  if (name == "int64") return at::kLong;
  if (name == "int16") return at::kShort;
  if (name == "int8") return at::kChar;
  if (name == "uint8") return at::kByte;
  if (name == "bool") return at::kBool;
  if (name == "complex64") return at::kComplexFloat;
  throw std::invalid_argument("unknown dtype '" + name +
                              "' (allowed: float32, float64, float16, bfloat16, int8, int16, int32, int64, uint8, bool, complex64)");
}

std::string dtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kComplexFloat: return "complex64";
    default: return std::string(c10::toString(type));
  }
}

at::Device parseDevice(const std::string& name) {
  if (name == "cpu") return at::Device(at::kCPU);
  if (name.rfind("cuda", 0) == 0) return at::Device(name);
  throw std::invalid_argument("unknown device '" + name + "' (allowed: cpu, cuda, cuda:N)");
}

static std::string position(size_t i) { return "argument " + std::to_string(i); }

at::Tensor& Args::tensor(size_t i) const {
  if (i >= info_.Length()) throw std::invalid_argument(position(i) + " is missing (expected a tensor)");
  // The hot path of every op: one type-tag check, and error text built only on failure.
  Napi::Value v = info_[i];
  if (!isTensorHandle(v)) throw std::invalid_argument(position(i) + " is not a tensor");
  Holder* h = v.As<Napi::External<Holder>>().Data();
  if (!h->tensor.defined()) throw std::invalid_argument("tensor was disposed and cannot be used (" + position(i) + ")");
  return h->tensor;
}

c10::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensors(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) throw std::invalid_argument(position(i) + " must be an array of tensors");
  auto array = info_[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Holder* h = unwrapHolder(array.Get(k), (position(i) + "[" + std::to_string(k) + "]").c_str());
    if (!h->tensor.defined()) throw std::invalid_argument("tensor was disposed and cannot be used (" + position(i) + "[" + std::to_string(k) + "])");
    out.push_back(h->tensor);
  }
  return out;
}

at::Scalar Args::scalar(size_t i) const {
  if (i >= info_.Length()) throw std::invalid_argument(position(i) + " is missing (expected a number)");
  Napi::Value v = info_[i];
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsBigInt()) {
    bool lossless;
    return at::Scalar(static_cast<int64_t>(v.As<Napi::BigInt>().Int64Value(&lossless)));
  }
  if (!v.IsNumber()) throw std::invalid_argument(position(i) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  // JavaScript has one number type: integral values act as integer scalars so that integer tensors keep
  // their dtype (as `t + 1` does in PyTorch); float tensors are unaffected either way.
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

int64_t Args::i64(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) {
    if (i < info_.Length() && info_[i].IsBigInt()) {
      bool lossless;
      return info_[i].As<Napi::BigInt>().Int64Value(&lossless);
    }
    throw std::invalid_argument(position(i) + " must be an integer");
  }
  return info_[i].As<Napi::Number>().Int64Value();
}

double Args::f64(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) throw std::invalid_argument(position(i) + " must be a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

bool Args::flag(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsBoolean()) throw std::invalid_argument(position(i) + " must be a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> Args::ints(size_t i) const {
  if (i >= info_.Length()) throw std::invalid_argument(position(i) + " is missing (expected an array of integers)");
  if (info_[i].IsNumber()) return {info_[i].As<Napi::Number>().Int64Value()};
  if (!info_[i].IsArray()) throw std::invalid_argument(position(i) + " must be an array of integers");
  auto array = info_[i].As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) throw std::invalid_argument(position(i) + "[" + std::to_string(k) + "] must be an integer");
    out[k] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

std::string Args::str(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsString()) throw std::invalid_argument(position(i) + " must be a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

c10::optional<at::Generator> Args::generator(size_t i) const {
  if (!has(i)) return c10::nullopt;
  Napi::Value v = info_[i];
  if (!v.IsExternal() || !v.As<Napi::External<GeneratorHolder>>().CheckTypeTag(&kGeneratorTag))
    throw std::invalid_argument(position(i) + " must be a generator");
  return v.As<Napi::External<GeneratorHolder>>().Data()->generator;
}

Napi::Value Args::ret(std::vector<at::Tensor> ts) const {
  auto array = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) array.Set(static_cast<uint32_t>(k), wrapTensor(env, std::move(ts[k])));
  return array;
}

static Napi::Value trampoline(const Napi::CallbackInfo& info) {
  auto fn = reinterpret_cast<OpFn>(info.Data());
  Args args(info);
  try {
    return fn(args);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), "unknown native error");
  }
}

void def(Napi::Env env, Napi::Object exports, const char* name, OpFn fn) {
  exports.Set(name, Napi::Function::New(env, trampoline, name, reinterpret_cast<void*>(fn)));
}

}  // namespace avid
