// The Node-API face of the in-process decoder: `mediaDecode(path, clips, timeoutMs, cancelFlag)` returns a
// promise and decodes on a native thread, writing into the Uint8Array/Float32Array that JavaScript passed.
//
// Threads: a pool of our own rather than libuv's (4 threads unless UV_THREADPOOL_SIZE is set before Node
// first uses it, and shared with file I/O): N decodes in flight run on N threads. The pool grows on demand
// (up to kMaxThreads) and keeps its threads for the next jobs; concurrency is bounded by the callers (the
// data loader's workers).
#include <napi.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "media_decode.h"

extern "C" {
#include <libavutil/log.h>
}
#include <cstdlib>
#include <cstring>

namespace avid {

namespace {

constexpr int kMaxThreads = 256;

class DecodePool {
 public:
  void submit(std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(job));
    if (static_cast<int>(queue_.size()) > idle_ && threads_ < kMaxThreads) {
      threads_++;
      std::thread([this] { run(); }).detach();  // lives as long as the process; blocked when idle
    } else {
      wake_.notify_one();
    }
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      idle_++;
      wake_.wait(lock, [this] { return !queue_.empty(); });
      idle_--;
      std::function<void()> job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  int threads_ = 0;
  int idle_ = 0;
};

DecodePool& pool() {
  static DecodePool* p = new DecodePool();  // never destroyed: its detached threads may outlive static destructors
  return *p;
}

// Per Node environment: when it shuts down, running jobs stop at their next poll and the environment waits
// for them, so that no thread writes into JavaScript memory that is being freed.
struct EnvJobs {
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable idle;
  int running = 0;
};

struct DecodeJob {
  std::string path;
  std::vector<media::ClipRequest> clips;
  std::vector<media::ClipResult> results;
  media::JobControl control;
  std::vector<Napi::Reference<Napi::Value>> keepAlive;  // the JS buffers written into, and the cancel flag
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction done;
  EnvJobs* env = nullptr;
  explicit DecodeJob(Napi::Env e) : deferred(Napi::Promise::Deferred::New(e)) {}
};

double number(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw std::invalid_argument(where + "." + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw std::invalid_argument(where + "." + key + " must be finite");
  return d;
}

int positiveInt(const Napi::Object& o, const char* key, const std::string& where) {
  double d = number(o, key, where);
  if (d < 1 || d > 1e9 || d != std::floor(d)) throw std::invalid_argument(where + "." + key + " must be a positive integer");
  return static_cast<int>(d);
}

media::ClipRequest parseClip(const Napi::Object& clip, const std::string& where, DecodeJob& job) {
  media::ClipRequest r;
  Napi::Value video = clip.Get("video");
  if (video.IsObject()) {
    Napi::Object v = video.As<Napi::Object>();
    const std::string at = where + ".video";
    r.wantVideo = true;
    r.video.startSec = number(v, "startSec", at);
    r.video.numFrames = positiveInt(v, "numFrames", at);
    r.video.fps = number(v, "fps", at);
    if (!(r.video.fps > 0)) throw std::invalid_argument(at + ".fps must be > 0");
    r.video.outWidth = positiveInt(v, "outWidth", at);
    r.video.outHeight = positiveInt(v, "outHeight", at);
    r.video.flip = v.Get("flip").ToBoolean();
    Napi::Value crop = v.Get("crop");
    if (crop.IsObject()) {
      Napi::Object c = crop.As<Napi::Object>();
      r.video.hasCrop = true;
      r.video.cropX = static_cast<int>(std::lround(number(c, "x", at + ".crop")));
      r.video.cropY = static_cast<int>(std::lround(number(c, "y", at + ".crop")));
      r.video.cropWidth = positiveInt(c, "width", at + ".crop");
      r.video.cropHeight = positiveInt(c, "height", at + ".crop");
    }
    Napi::Value pixels = v.Get("pixels");
    if (!pixels.IsTypedArray() || pixels.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) throw std::invalid_argument(at + ".pixels must be a Uint8Array");
    Napi::Uint8Array buffer = pixels.As<Napi::Uint8Array>();
    const size_t needed = static_cast<size_t>(r.video.numFrames) * r.video.outWidth * r.video.outHeight * 3;
    if (buffer.ByteLength() != needed) throw std::invalid_argument(at + ".pixels has " + std::to_string(buffer.ByteLength()) + " bytes, expected " + std::to_string(needed));
    r.video.pixels = buffer.Data();
    job.keepAlive.push_back(Napi::Persistent(pixels));
  }
  Napi::Value audio = clip.Get("audio");
  if (audio.IsObject()) {
    Napi::Object a = audio.As<Napi::Object>();
    const std::string at = where + ".audio";
    r.wantAudio = true;
    r.audio.startSec = number(a, "startSec", at);
    r.audio.durationSec = number(a, "durationSec", at);
    r.audio.sampleRate = positiveInt(a, "sampleRate", at);
    if (!(r.audio.durationSec > 0)) throw std::invalid_argument(at + ".durationSec must be > 0");
    Napi::Value samples = a.Get("samples");
    if (!samples.IsTypedArray() || samples.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) throw std::invalid_argument(at + ".samples must be a Float32Array");
    Napi::Float32Array buffer = samples.As<Napi::Float32Array>();
    r.audio.totalSamples = static_cast<int64_t>(buffer.ElementLength());
    r.audio.samples = buffer.Data();
    job.keepAlive.push_back(Napi::Persistent(samples));
  }
  if (!r.wantVideo && !r.wantAudio) throw std::invalid_argument(where + " asks for neither video nor audio");
  return r;
}

Napi::Value resultsToJs(Napi::Env env, const std::vector<media::ClipResult>& results) {
  Napi::Array out = Napi::Array::New(env, results.size());
  for (size_t i = 0; i < results.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("decodedFrames", results[i].decodedFrames);
    o.Set("decodedSamples", static_cast<double>(results[i].decodedSamples));
    if (!results[i].reason.empty()) {
      o.Set("reason", results[i].reason);
      o.Set("detail", results[i].detail);
    }
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

// (path, clips, timeoutMsPerClip, cancelFlag: Int32Array | null, join?: 'nearby' | 'same-seek') → Promise<result[]>. Bad arguments throw
// at once (a programming error); bad media resolves with reasons (a property of the data).
Napi::Value mediaDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvJobs* jobs = static_cast<EnvJobs*>(info.Data());
  try {
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsNumber()) throw std::invalid_argument("mediaDecode(path, clips, timeoutMs, cancelFlag)");
    auto job = std::make_unique<DecodeJob>(env);
    job->path = info[0].As<Napi::String>().Utf8Value();
    Napi::Array clips = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < clips.Length(); i++) {
      Napi::Value clip = clips.Get(i);
      if (!clip.IsObject()) throw std::invalid_argument("clips[" + std::to_string(i) + "] is not an object");
      job->clips.push_back(parseClip(clip.As<Napi::Object>(), "clips[" + std::to_string(i) + "]", *job));
    }
    job->control.timeoutMsPerClip = info[2].As<Napi::Number>().DoubleValue();
    if (!(job->control.timeoutMsPerClip > 0)) throw std::invalid_argument("timeoutMs must be > 0");
    if (info[3].IsTypedArray() && info[3].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
      job->control.cancelFlag = info[3].As<Napi::Int32Array>().Data();
      job->keepAlive.push_back(Napi::Persistent(info[3]));
    } else if (!info[3].IsNull() && !info[3].IsUndefined()) {
      throw std::invalid_argument("cancelFlag must be an Int32Array or null");
    }
    if (info.Length() >= 5 && !info[4].IsUndefined()) {
      const std::string join = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
      if (join != "nearby" && join != "same-seek") throw std::invalid_argument("join must be 'nearby' or 'same-seek'");
      job->control.joinOnlySameSeek = join == "same-seek";
    }
    job->env = jobs;
    job->control.stopping = &jobs->stopping;
    Napi::Promise promise = job->deferred.Promise();
    job->done = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "avid-media-decode", 0, 1);
    {
      std::lock_guard<std::mutex> lock(jobs->mutex);
      jobs->running++;
    }
    DecodeJob* raw = job.release();
    pool().submit([raw] {
      try {
        raw->results = media::decodeClips(raw->path, raw->clips, raw->control);
      } catch (const std::exception& e) {
        // Out of memory and the like: an error value for every clip, never an exception on a bare thread
        // (which would end the process).
        raw->results.assign(raw->clips.size(), media::ClipResult{"unreadable", e.what(), 0, 0});
      }
      EnvJobs* owner = raw->env;
      Napi::ThreadSafeFunction done = raw->done;
      // Resolve on the JavaScript thread; if the environment is gone, the job is simply freed.
      napi_status status = done.BlockingCall(raw, [](Napi::Env e, Napi::Function, DecodeJob* j) {
        j->deferred.Resolve(resultsToJs(e, j->results));
        delete j;
      });
      if (status != napi_ok) delete raw;
      done.Release();
      std::lock_guard<std::mutex> lock(owner->mutex);
      if (--owner->running == 0) owner->idle.notify_all();
    });
    return promise;
  } catch (const std::exception& e) {
    throw Napi::TypeError::New(env, std::string("mediaDecode: ") + e.what());
  }
}

}  // namespace

void registerMedia(Napi::Env env, Napi::Object exports) {
  // Failures come back as values with FFmpeg's message; its own logging would only repeat them on stderr
  // (and warn about every odd file of a large collection). AVID_FFMPEG_LOG=1 keeps its errors and warnings.
  const char* log = std::getenv("AVID_FFMPEG_LOG");
  av_log_set_level(log && std::strcmp(log, "1") == 0 ? AV_LOG_WARNING : AV_LOG_QUIET);
  // The addon's instance data is the tensor table (common.cc): this state travels as the function's data.
  auto* jobs = new EnvJobs();
  napi_add_env_cleanup_hook(
      env,
      [](void* arg) {
        auto* j = static_cast<EnvJobs*>(arg);
        j->stopping = true;
        {
          std::unique_lock<std::mutex> lock(j->mutex);
          j->idle.wait(lock, [j] { return j->running == 0; });
        }
        delete j;
      },
      jobs);
  exports.Set("mediaDecode", Napi::Function::New(env, mediaDecode, "mediaDecode", jobs));
  exports.Set("mediaCachedContainers", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), media::cachedContainerCount()); }));
  exports.Set("mediaClearCache", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    media::clearContainerCache();
    return info.Env().Undefined();
  }));
}

}  // namespace avid
