// Process-level state: threads, seeds and generators, memory accounting, devices.
#include "common.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <thread>

// OpenMP's own setter, weak: libtorch brings its OpenMP runtime (libgomp for Debian's build); with none (or
// another runtime without this name) it is null and the caller falls back to at::set_num_threads.
extern "C" __attribute__((weak)) void omp_set_num_threads(int);

namespace avid {

void registerRuntime(Napi::Env env, Napi::Object exports) {
  def(env, exports, "setNumThreads", [](Args& a) { at::set_num_threads(static_cast<int>(a.i64(0))); return a.undefined(); });
  def(env, exports, "getNumThreads", [](Args& a) { return a.number(at::get_num_threads()); });
  // The intra-op threads of operations called from this (the JavaScript) thread only: OpenMP keeps the count
  // per thread, and ATen's parallel loops read the caller's. at::set_num_threads also rebuilds the global
  // pthreadpool (it joins and starts threads): about 5 CPU ms and, on a loaded machine, 50 ms of wall time per
  // switch and back, which the loader paid on every batch. Returns false where only the global setter works.
  def(env, exports, "setCallerThreads", [](Args& a) {
    const int n = static_cast<int>(a.i64(0));
    if (omp_set_num_threads == nullptr) return a.boolean(false);
    omp_set_num_threads(n);
    return a.boolean(true);
  });
  def(env, exports, "manualSeed", [](Args& a) {
    uint64_t seed = static_cast<uint64_t>(a.i64(0));
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
    return a.undefined();
  });
  def(env, exports, "createGenerator", [](Args& a) {
    return wrapGenerator(a.env, at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(a.i64(0))));
  });
  // Generator state as a uint8 tensor, to be saved in checkpoints; null = the default generator.
  def(env, exports, "generatorGetState", [](Args& a) {
    at::Generator gen = a.has(0) ? *a.generator(0) : at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return a.ret(gen.get_state());
  });
  def(env, exports, "generatorSetState", [](Args& a) {
    at::Generator gen = a.has(0) ? *a.generator(0) : at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(a.tensor(1));
    return a.undefined();
  });
  // (handle) -> whether it freed a tensor. Idempotent: a handle already freed (or never valid) is ignored,
  // so that the JavaScript finalizer can call it without checks.
  def(env, exports, "dispose", [](Args& a) {
    double handle;
    if (a.length() < 1 || napi_get_value_double(a.env, a.at(0), &handle) != napi_ok) throw std::invalid_argument("dispose: argument 0 is not a tensor handle");
    return a.boolean(a.table->release(handle));
  });
  def(env, exports, "isDisposed", [](Args& a) {
    double handle;
    if (a.length() < 1 || napi_get_value_double(a.env, a.at(0), &handle) != napi_ok) throw std::invalid_argument("isDisposed: argument 0 is not a tensor handle");
    return a.boolean(a.table->find(handle) == nullptr);
  });
  // Live tensors and their storage bytes: of the whole process (every thread), and of this thread's environment.
  def(env, exports, "liveTensors", [](Args& a) { return a.number(static_cast<double>(TensorTable::processLiveTensors())); });
  def(env, exports, "liveBytes", [](Args& a) { return a.number(static_cast<double>(TensorTable::processLiveBytes())); });
  def(env, exports, "envLiveTensors", [](Args& a) { return a.number(static_cast<double>(a.table->liveTensors())); });
  def(env, exports, "envLiveBytes", [](Args& a) { return a.number(static_cast<double>(a.table->liveBytes())); });
  def(env, exports, "cudaIsAvailable", [](Args& a) { return a.boolean(at::hasCUDA()); });
  def(env, exports, "setDeterministic", [](Args& a) {
    at::globalContext().setDeterministicAlgorithms(a.flag(0), true);
    at::globalContext().setBenchmarkCuDNN(!a.flag(0));
    return a.undefined();
  });
  def(env, exports, "hardwareConcurrency", [](Args& a) { return a.number(std::thread::hardware_concurrency()); });
}

}  // namespace avid
