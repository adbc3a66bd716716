// Shared plumbing of the addon: how a libtorch tensor is referred to from JavaScript, how arguments are
// read, and how C++ errors cross the boundary as JavaScript errors (never as a crash).
//
// A tensor crossing the boundary is a plain JavaScript number: a slot of this Node environment's tensor
// table plus the slot's generation (see TensorTable). Returning a number costs a few nanoseconds, where a
// Node-API External with a type tag and a GC finalizer cost about half a microsecond per tensor, more than a
// tiny op's own work. Freeing is explicit (dispose); the safety net for tensors JavaScript forgets is a
// FinalizationRegistry on the JavaScript side (src/tensor/scope.ts).
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace avid {

struct GeneratorHolder {
  at::Generator generator;
};

struct OpRecord;

// The tensors that JavaScript handles of one Node environment (the main thread or one worker) refer to.
// Kept in the environment's instance data, so the addon stays context-aware: a worker's handles are its own.
//
// Handle encoding (always an integer-valued JavaScript number, never negative):
//   slot < 2^21:  generation(10 bits) << 21 | slot           (< 2^31: a small integer, no heap number in V8)
//   otherwise:    2^31 + slot * 1024 + generation(10 bits)    (exact in a double up to 2^32 slots)
// The generation changes each time a slot is freed, so a stale handle (a tensor used after dispose) is
// reported as such instead of reaching the slot's next tensor.
class TensorTable {
 public:
  explicit TensorTable(napi_env env);
  ~TensorTable();
  TensorTable(const TensorTable&) = delete;
  TensorTable& operator=(const TensorTable&) = delete;

  // The table of `env` (created by the addon's init).
  static TensorTable* of(napi_env env);
  static TensorTable* create(napi_env env);

  // Stores `tensor` in a slot and returns its handle. An undefined tensor is not stored (the caller returns null).
  double put(at::Tensor tensor);
  // The tensor a handle refers to; nullptr when the handle is malformed, out of range, freed or stale.
  at::Tensor* find(double handle);
  // Frees the slot's tensor now. False when the handle does not refer to a live tensor (already freed).
  bool release(double handle);

  int64_t liveTensors() const { return live_.load(std::memory_order_relaxed); }
  int64_t liveBytes() const { return bytes_.load(std::memory_order_relaxed); }
  // Totals over every environment's table in the process (main thread and workers).
  static int64_t processLiveTensors();
  static int64_t processLiveBytes();

  napi_env env() const { return env_; }
  std::vector<std::unique_ptr<OpRecord>> ops;  // owned here so that they live exactly as long as the environment

 private:
  struct Slot {
    at::Tensor tensor;
    int64_t bytes = 0;
    uint32_t generation = 0;
  };
  bool decode(double handle, uint32_t& slot, uint32_t& generation) const;
  void add(std::atomic<int64_t>& counter, int64_t delta) {
    // Only this environment's thread writes its counters; other threads only read them (memory()).
    counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }

  napi_env env_;
  uint32_t smallSlots_;  // slots below this get the small handle form (2^21 unless a test lowers it)
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::atomic<int64_t> live_{0};
  std::atomic<int64_t> bytes_{0};
};

// Returns a new handle to `tensor` in env's table (null for an undefined tensor). Ops return through
// Args::ret, which skips the table lookup; this is for code that has no Args.
Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);
Napi::Value wrapGenerator(Napi::Env env, at::Generator generator);

at::ScalarType parseDtype(const std::string& name);
std::string dtypeName(at::ScalarType type);
at::Device parseDevice(const std::string& name);

// Typed access to a call's arguments; errors name the argument's position.
//
// A position takes either a tensor or a number, never both: handles are numbers too, so where an operation
// accepts a scalar in place of a tensor it has a second entry point (`add` and `addScalar`) and the
// JavaScript side picks one.
class Args {
 public:
  Args(napi_env env, size_t argc, const napi_value* argv, TensorTable* table)
      : env(env), table(table), argc_(argc), argv_(argv) {}
  size_t length() const { return argc_; }
  bool has(size_t i) const;
  at::Tensor& tensor(size_t i) const;
  c10::optional<at::Tensor> optTensor(size_t i) const;
  std::vector<at::Tensor> tensors(size_t i) const;
  // The tensor that `value` (an element of an array argument, say) refers to; `what` names it in errors.
  at::Tensor& tensorOf(napi_value value, const std::string& what) const;
  at::Scalar scalar(size_t i) const;
  at::Scalar scalarOr(size_t i, at::Scalar fallback) const { return has(i) ? scalar(i) : fallback; }
  int64_t i64(size_t i) const;
  int64_t i64Or(size_t i, int64_t fallback) const { return has(i) ? i64(i) : fallback; }
  c10::optional<int64_t> optI64(size_t i) const { return has(i) ? c10::optional<int64_t>(i64(i)) : c10::nullopt; }
  double f64(size_t i) const;
  double f64Or(size_t i, double fallback) const { return has(i) ? f64(i) : fallback; }
  bool flag(size_t i) const;
  bool flagOr(size_t i, bool fallback) const { return has(i) ? flag(i) : fallback; }
  std::vector<int64_t> ints(size_t i) const;
  std::string str(size_t i) const;
  at::ScalarType dtypeOr(size_t i, at::ScalarType fallback) const { return has(i) ? parseDtype(str(i)) : fallback; }
  c10::optional<at::ScalarType> optDtype(size_t i) const {
    return has(i) ? c10::optional<at::ScalarType>(parseDtype(str(i))) : c10::nullopt;
  }
  at::Device deviceOr(size_t i) const { return has(i) ? parseDevice(str(i)) : at::Device(at::kCPU); }
  c10::optional<at::Generator> generator(size_t i) const;
  at::TensorOptions options(size_t dtypeIndex, size_t deviceIndex, at::ScalarType fallback = at::kFloat) const {
    return at::TensorOptions().dtype(dtypeOr(dtypeIndex, fallback)).device(deviceOr(deviceIndex));
  }
  Napi::Value ret(at::Tensor t) const;
  Napi::Value ret(std::vector<at::Tensor> ts) const;
  Napi::Value ret(std::tuple<at::Tensor, at::Tensor> ts) const {
    return ret(std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts)});
  }
  Napi::Value undefined() const { return env.Undefined(); }
  Napi::Value number(double v) const { return Napi::Number::New(env, v); }
  Napi::Value boolean(bool v) const { return Napi::Boolean::New(env, v); }
  Napi::Value at(size_t i) const { return i < argc_ ? Napi::Value(env, argv_[i]) : env.Undefined(); }

  Napi::Env env;
  TensorTable* table;

 private:
  size_t argc_;
  const napi_value* argv_;
};

using OpFn = Napi::Value (*)(Args&);

struct OpRecord {
  OpFn fn;
  TensorTable* table;
};

// Registers `fn` as exports[name]; libtorch errors become JavaScript Errors with the short message.
void def(Napi::Env env, Napi::Object exports, const char* name, OpFn fn);

void registerCreation(Napi::Env env, Napi::Object exports);
void registerShape(Napi::Env env, Napi::Object exports);
void registerPointwise(Napi::Env env, Napi::Object exports);
void registerReduce(Napi::Env env, Napi::Object exports);
void registerNN(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);
void registerImage(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);

}  // namespace avid
