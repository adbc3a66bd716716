#include "common.h"

#include <c10/util/Exception.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>

namespace avid {

static const napi_type_tag kGeneratorTag = {0x6176696467656e65ULL, 0x7261746f72686f6cULL};

// ---- the tensor table ----------------------------------------------------------------------------------------

static constexpr uint32_t kSmallSlotBits = 21;
static constexpr uint32_t kSmallSlots = 1u << kSmallSlotBits;
static constexpr uint32_t kGenerationMask = 1023;
static constexpr double kLargeBase = 2147483648.0;  // 2^31: handles of slots >= 2^21 start here

// Tests lower the number of slots with small handles (AVID_TEST_SMALL_HANDLE_SLOTS) to reach the large form
// without creating two million tensors.
static uint32_t smallSlotsLimit() {
  const char* value = std::getenv("AVID_TEST_SMALL_HANDLE_SLOTS");
  if (value == nullptr) return kSmallSlots;
  long n = std::strtol(value, nullptr, 10);
  return n >= 1 && n <= static_cast<long>(kSmallSlots) ? static_cast<uint32_t>(n) : kSmallSlots;
}

// Every table of the process, for memory()'s process-wide totals.
static std::mutex tablesMutex;
static std::vector<TensorTable*> tables;

static int64_t storageBytes(const at::Tensor& t) {
  if (!t.has_storage()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// Small tensors are not reported to V8's external-memory accounting: the call costs about as much as a tiny
// op, and only large buffers matter for when the garbage collector runs.
static constexpr int64_t kExternalMemoryThreshold = 16 * 1024;

static void adjustExternalMemory(napi_env env, int64_t delta) {
  int64_t ignored;
  napi_adjust_external_memory(env, delta, &ignored);
}

TensorTable::TensorTable(napi_env env) : env_(env), smallSlots_(smallSlotsLimit()) {
  slots_.reserve(1024);
  free_.reserve(1024);
  // Slot 0 is never used, so no handle is 0: a handle is always truthy in JavaScript (`h ? ... : ...`).
  slots_.emplace_back();
  std::lock_guard<std::mutex> lock(tablesMutex);
  tables.push_back(this);
}

TensorTable::~TensorTable() {
  {
    std::lock_guard<std::mutex> lock(tablesMutex);
    tables.erase(std::remove(tables.begin(), tables.end(), this), tables.end());
  }
  // The environment is going away (process exit or a worker ending): its tensors go with it. V8's
  // external-memory count dies with the isolate, so it is not adjusted here.
  slots_.clear();
}

TensorTable* TensorTable::create(napi_env env) {
  auto* table = new TensorTable(env);
  napi_status status = napi_set_instance_data(
      env, table, [](napi_env, void* data, void*) { delete static_cast<TensorTable*>(data); }, nullptr);
  if (status != napi_ok) {
    delete table;
    throw std::runtime_error("avid: could not attach the tensor table to this environment");
  }
  return table;
}

TensorTable* TensorTable::of(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok || data == nullptr)
    throw std::runtime_error("avid: this environment has no tensor table (the addon was not initialised here)");
  return static_cast<TensorTable*>(data);
}

double TensorTable::put(at::Tensor tensor) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() >= 0xFFFFFFFFull) throw std::runtime_error("too many live tensors");
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.bytes = storageBytes(tensor);
  slot.tensor = std::move(tensor);
  add(live_, 1);
  add(bytes_, slot.bytes);
  if (slot.bytes >= kExternalMemoryThreshold) adjustExternalMemory(env_, slot.bytes);
  uint32_t generation = slot.generation & kGenerationMask;
  if (index < smallSlots_) return static_cast<double>((generation << kSmallSlotBits) | index);
  return kLargeBase + static_cast<double>(index) * (kGenerationMask + 1) + generation;
}

bool TensorTable::decode(double handle, uint32_t& index, uint32_t& generation) const {
  if (!(handle >= 0)) return false;  // also rejects NaN
  if (handle < kLargeBase) {
    auto v = static_cast<uint32_t>(handle);
    if (static_cast<double>(v) != handle) return false;
    index = v & (kSmallSlots - 1);
    generation = v >> kSmallSlotBits;
    return index < smallSlots_;
  }
  double rest = handle - kLargeBase;
  if (rest >= 4294967296.0 * (kGenerationMask + 1)) return false;
  auto v = static_cast<uint64_t>(rest);
  if (static_cast<double>(v) != rest) return false;
  index = static_cast<uint32_t>(v >> 10);
  generation = static_cast<uint32_t>(v & kGenerationMask);
  return index >= smallSlots_;  // smaller slots always use the small form
}

at::Tensor* TensorTable::find(double handle) {
  uint32_t index, generation;
  if (!decode(handle, index, generation) || index == 0 || index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  if ((slot.generation & kGenerationMask) != generation || !slot.tensor.defined()) return nullptr;
  return &slot.tensor;
}

bool TensorTable::release(double handle) {
  uint32_t index, generation;
  if (!decode(handle, index, generation) || index == 0 || index >= slots_.size()) return false;
  Slot& slot = slots_[index];
  if ((slot.generation & kGenerationMask) != generation || !slot.tensor.defined()) return false;
  slot.tensor.reset();
  slot.generation++;
  add(live_, -1);
  add(bytes_, -slot.bytes);
  if (slot.bytes >= kExternalMemoryThreshold) adjustExternalMemory(env_, -slot.bytes);
  slot.bytes = 0;
  free_.push_back(index);
  return true;
}

int64_t TensorTable::processLiveTensors() {
  std::lock_guard<std::mutex> lock(tablesMutex);
  int64_t n = 0;
  for (auto* t : tables) n += t->liveTensors();
  return n;
}

int64_t TensorTable::processLiveBytes() {
  std::lock_guard<std::mutex> lock(tablesMutex);
  int64_t n = 0;
  for (auto* t : tables) n += t->liveBytes();
  return n;
}

static napi_value handleValue(napi_env env, double handle) {
  napi_value out;
  if (handle < kLargeBase) napi_create_int32(env, static_cast<int32_t>(handle), &out);
  else napi_create_double(env, handle, &out);
  return out;
}

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  return Napi::Value(env, handleValue(env, TensorTable::of(env)->put(std::move(tensor))));
}

Napi::Value wrapGenerator(Napi::Env env, at::Generator generator) {
  auto* holder = new GeneratorHolder{std::move(generator)};
  auto external = Napi::External<GeneratorHolder>::New(env, holder, [](Napi::Env, GeneratorHolder* h) { delete h; });
  external.TypeTag(&kGeneratorTag);
  return external;
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

bool Args::has(size_t i) const {
  if (i >= argc_) return false;
  napi_valuetype type;
  if (napi_typeof(env, argv_[i], &type) != napi_ok) return false;
  return type != napi_undefined && type != napi_null;
}

at::Tensor& Args::tensorOf(napi_value value, const std::string& what) const {
  double handle;
  if (napi_get_value_double(env, value, &handle) != napi_ok) throw std::invalid_argument(what + " is not a tensor");
  at::Tensor* t = table->find(handle);
  if (t == nullptr) throw std::invalid_argument("tensor was disposed and cannot be used (" + what + ")");
  return *t;
}

at::Tensor& Args::tensor(size_t i) const {
  // The hot path of every op: one Node-API call and a table lookup; error text is built only on failure.
  double handle;
  if (i >= argc_) throw std::invalid_argument(position(i) + " is missing (expected a tensor)");
  if (napi_get_value_double(env, argv_[i], &handle) != napi_ok) throw std::invalid_argument(position(i) + " is not a tensor");
  at::Tensor* t = table->find(handle);
  if (t == nullptr) throw std::invalid_argument("tensor was disposed and cannot be used (" + position(i) + ")");
  return *t;
}

c10::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensors(size_t i) const {
  if (i >= argc_ || !at(i).IsArray()) throw std::invalid_argument(position(i) + " must be an array of tensors");
  auto array = at(i).As<Napi::Array>();
  uint32_t n = array.Length();
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (uint32_t k = 0; k < n; ++k) {
    napi_value element;
    if (napi_get_element(env, array, k, &element) != napi_ok) throw Napi::Error::New(env);
    out.push_back(tensorOf(element, position(i) + "[" + std::to_string(k) + "]"));
  }
  return out;
}

at::Scalar Args::scalar(size_t i) const {
  if (i >= argc_) throw std::invalid_argument(position(i) + " is missing (expected a number)");
  napi_value v = argv_[i];
  double d;
  if (napi_get_value_double(env, v, &d) == napi_ok) {
    // JavaScript has one number type: integral values act as integer scalars so that integer tensors keep
    // their dtype (as `t + 1` does in PyTorch); float tensors are unaffected either way.
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return at::Scalar(static_cast<int64_t>(d));
    return at::Scalar(d);
  }
  Napi::Value value(env, v);
  if (value.IsBoolean()) return at::Scalar(value.As<Napi::Boolean>().Value());
  if (value.IsBigInt()) {
    bool lossless;
    return at::Scalar(static_cast<int64_t>(value.As<Napi::BigInt>().Int64Value(&lossless)));
  }
  throw std::invalid_argument(position(i) + " must be a number");
}

int64_t Args::i64(size_t i) const {
  if (i < argc_) {
    int64_t v;
    if (napi_get_value_int64(env, argv_[i], &v) == napi_ok) return v;
    Napi::Value value(env, argv_[i]);
    if (value.IsBigInt()) {
      bool lossless;
      return value.As<Napi::BigInt>().Int64Value(&lossless);
    }
  }
  throw std::invalid_argument(position(i) + " must be an integer");
}

double Args::f64(size_t i) const {
  double v;
  if (i >= argc_ || napi_get_value_double(env, argv_[i], &v) != napi_ok) throw std::invalid_argument(position(i) + " must be a number");
  return v;
}

bool Args::flag(size_t i) const {
  bool v;
  if (i >= argc_ || napi_get_value_bool(env, argv_[i], &v) != napi_ok) throw std::invalid_argument(position(i) + " must be a boolean");
  return v;
}

std::vector<int64_t> Args::ints(size_t i) const {
  if (i >= argc_) throw std::invalid_argument(position(i) + " is missing (expected an array of integers)");
  int64_t single;
  if (napi_get_value_int64(env, argv_[i], &single) == napi_ok) return {single};
  if (!at(i).IsArray()) throw std::invalid_argument(position(i) + " must be an array of integers");
  auto array = at(i).As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    napi_value element;
    if (napi_get_element(env, array, k, &element) != napi_ok) throw Napi::Error::New(env);
    if (napi_get_value_int64(env, element, &out[k]) != napi_ok)
      throw std::invalid_argument(position(i) + "[" + std::to_string(k) + "] must be an integer");
  }
  return out;
}

std::string Args::str(size_t i) const {
  if (i >= argc_ || !at(i).IsString()) throw std::invalid_argument(position(i) + " must be a string");
  return at(i).As<Napi::String>().Utf8Value();
}

c10::optional<at::Generator> Args::generator(size_t i) const {
  if (!has(i)) return c10::nullopt;
  Napi::Value v = at(i);
  if (!v.IsExternal() || !v.As<Napi::External<GeneratorHolder>>().CheckTypeTag(&kGeneratorTag))
    throw std::invalid_argument(position(i) + " must be a generator");
  return v.As<Napi::External<GeneratorHolder>>().Data()->generator;
}

Napi::Value Args::ret(at::Tensor t) const {
  if (!t.defined()) return env.Null();
  return Napi::Value(env, handleValue(env, table->put(std::move(t))));
}

Napi::Value Args::ret(std::vector<at::Tensor> ts) const {
  auto array = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) array.Set(static_cast<uint32_t>(k), ret(std::move(ts[k])));
  return array;
}

// ---- calls -----------------------------------------------------------------------------------------------------

// Arguments read onto the stack; calls with more (none today) take a heap copy.
static constexpr size_t kInlineArgs = 12;

static napi_value trampoline(napi_env env, napi_callback_info info) {
  napi_value inlineArgs[kInlineArgs];
  size_t argc = kInlineArgs;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, inlineArgs, nullptr, &data) != napi_ok) return nullptr;
  const napi_value* argv = inlineArgs;
  std::vector<napi_value> heapArgs;
  if (argc > kInlineArgs) {
    heapArgs.resize(argc);
    size_t n = argc;
    if (napi_get_cb_info(env, info, &n, heapArgs.data(), nullptr, nullptr) != napi_ok) return nullptr;
    argv = heapArgs.data();
  }
  auto* op = static_cast<const OpRecord*>(data);
  try {
    Args args(env, argc, argv, op->table);
    return op->fn(args);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const c10::Error& e) {
    napi_throw_error(env, nullptr, e.what_without_backtrace());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  } catch (...) {
    napi_throw_error(env, nullptr, "unknown native error");
  }
  return nullptr;
}

void def(Napi::Env env, Napi::Object exports, const char* name, OpFn fn) {
  TensorTable* table = TensorTable::of(env);
  table->ops.push_back(std::make_unique<OpRecord>(OpRecord{fn, table}));
  napi_value function;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, trampoline, table->ops.back().get(), &function));
  exports.Set(name, Napi::Value(env, function));
}

}  // namespace avid
