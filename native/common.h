// Shared plumbing of the addon: how a libtorch tensor lives inside a JavaScript value, how arguments are
// read, and how C++ errors cross the boundary as JavaScript errors (never as a crash).
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <atomic>
#include <string>
#include <vector>

namespace avid {

// One native tensor reference owned by one JavaScript handle. `release` frees it early (dispose);
// the GC finalizer is only the safety net.
struct Holder {
  at::Tensor tensor;
  int64_t accountedBytes = 0;
  void release(Napi::Env env);
};

struct GeneratorHolder {
  at::Generator generator;
};

// Counts of tensors held by live handles in this process (all threads).
extern std::atomic<int64_t> liveTensors;
extern std::atomic<int64_t> liveBytes;

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);
Napi::Value wrapGenerator(Napi::Env env, at::Generator generator);
bool isTensorHandle(Napi::Value value);
Holder* unwrapHolder(Napi::Value value, const char* what);

at::ScalarType parseDtype(const std::string& name);
std::string dtypeName(at::ScalarType type);
at::Device parseDevice(const std::string& name);

// Typed access to a call's arguments; errors name the argument's position.
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info), env(info.Env()) {}
  size_t length() const { return info_.Length(); }
  bool has(size_t i) const { return i < info_.Length() && !info_[i].IsUndefined() && !info_[i].IsNull(); }
  bool isTensor(size_t i) const { return i < info_.Length() && isTensorHandle(info_[i]); }
  at::Tensor& tensor(size_t i) const;
  c10::optional<at::Tensor> optTensor(size_t i) const;
  std::vector<at::Tensor> tensors(size_t i) const;
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
  Napi::Value ret(at::Tensor t) const { return wrapTensor(env, std::move(t)); }
  Napi::Value ret(std::vector<at::Tensor> ts) const;
  Napi::Value ret(std::tuple<at::Tensor, at::Tensor> ts) const {
    return ret(std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts)});
  }
  Napi::Value undefined() const { return env.Undefined(); }
  Napi::Value number(double v) const { return Napi::Number::New(env, v); }
  Napi::Value boolean(bool v) const { return Napi::Boolean::New(env, v); }
  const Napi::CallbackInfo& info() const { return info_; }
  Napi::Value at(size_t i) const { return info_[i]; }

 private:
  const Napi::CallbackInfo& info_;
 public:
  Napi::Env env;
};

using OpFn = Napi::Value (*)(Args&);

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
void registerDistributed(Napi::Env env, Napi::Object exports);

}  // namespace avid
