// Entry point of the native addon. Context-aware: each Node environment (main thread or worker) gets its
// own exports; libtorch itself is process-wide.
#include "common.h"

#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>
#include <mutex>
#include <thread>

namespace avid {

// Defined in ops_device.cc (declared here rather than in common.h, which every file includes).
void registerDevice(Napi::Env env, Napi::Object exports);
// Defined in media_binding.cc: in-process decoding with FFmpeg's libraries.
void registerMedia(Napi::Env env, Napi::Object exports);

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  // libtorch's default thread count was 1 here: use the machine's cores unless told otherwise.
  static std::once_flag threadsOnce;
  std::call_once(threadsOnce, [] {
    const char* fromEnv = std::getenv("AVID_NUM_THREADS");
    int n = fromEnv ? std::atoi(fromEnv) : static_cast<int>(std::thread::hardware_concurrency());
    if (n > 0) at::set_num_threads(n);
  });
  TensorTable::create(env);
  registerCreation(env, exports);
  registerShape(env, exports);
  registerPointwise(env, exports);
  registerReduce(env, exports);
  registerNN(env, exports);
  registerAutograd(env, exports);
  registerOptim(env, exports);
  registerRuntime(env, exports);
  registerDistributed(env, exports);
  registerDevice(env, exports);
  registerMedia(env, exports);
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  return exports;
}

}  // namespace avid

static Napi::Object InitAvid(Napi::Env env, Napi::Object exports) { return avid::init(env, exports); }

NODE_API_MODULE(avid_native, InitAvid)
