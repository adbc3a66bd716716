// Process-level state: threads, seeds and generators, memory accounting, devices.
#include "common.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <thread>

namespace avid {

void registerRuntime(Napi::Env env, Napi::Object exports) {
  def(env, exports, "setNumThreads", [](Args& a) { at::set_num_threads(static_cast<int>(a.i64(0))); return a.undefined(); });
  def(env, exports, "getNumThreads", [](Args& a) { return a.number(at::get_num_threads()); });
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
  def(env, exports, "dispose", [](Args& a) {
    if (!isTensorHandle(a.at(0))) throw std::invalid_argument("dispose: argument is not a tensor");
    unwrapHolder(a.at(0), "argument 0")->release(a.env);
    return a.undefined();
  });
  def(env, exports, "isDisposed", [](Args& a) { return a.boolean(!unwrapHolder(a.at(0), "argument 0")->tensor.defined()); });
  def(env, exports, "liveTensors", [](Args& a) { return a.number(static_cast<double>(liveTensors.load())); });
  def(env, exports, "liveBytes", [](Args& a) { return a.number(static_cast<double>(liveBytes.load())); });
  def(env, exports, "cudaIsAvailable", [](Args& a) { return a.boolean(at::hasCUDA()); });
  def(env, exports, "setDeterministic", [](Args& a) {
    at::globalContext().setDeterministicAlgorithms(a.flag(0), true);
    at::globalContext().setBenchmarkCuDNN(!a.flag(0));
    return a.undefined();
  });
  def(env, exports, "hardwareConcurrency", [](Args& a) { return a.number(std::thread::hardware_concurrency()); });
}

}  // namespace avid
