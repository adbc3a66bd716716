// Opening media files and the cache of open ones (see media_container.h).
#include "media_container.h"

#include <cstdlib>
#include <list>
#include <mutex>

namespace avid::media {

namespace {

std::string averror(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof text);
  return text;
}

int interruptCallback(void* opaque) { return static_cast<InterruptState*>(opaque)->shouldStop() ? 1 : 0; }

// Idle containers kept open. Each holds one file descriptor and the decoders' state (a few MB for H.264 at
// 480p). AVID_DECODE_CACHE overrides the default.
size_t cacheCapacity() {
  static const size_t capacity = [] {
    const char* fromEnv = std::getenv("AVID_DECODE_CACHE");
    long n = fromEnv ? std::strtol(fromEnv, nullptr, 10) : 16;
    return static_cast<size_t>(n >= 0 ? n : 16);
  }();
  return capacity;
}

std::mutex cacheMutex;
std::list<std::unique_ptr<OpenContainer>> idle;  // most recently used first

bool statFile(const std::string& path, struct stat& st) { return ::stat(path.c_str(), &st) == 0; }

}  // namespace

bool InterruptState::cancelled() const {
  if (!control) return false;
  if (control->stopping && control->stopping->load(std::memory_order_relaxed)) return true;
  return control->cancelFlag && __atomic_load_n(control->cancelFlag, __ATOMIC_RELAXED) != 0;
}

bool InterruptState::shouldStop() {
  if (cancelled()) return true;
  if (std::chrono::steady_clock::now() > deadline) {
    timedOut = true;
    return true;
  }
  return false;
}

std::unique_ptr<OpenContainer> OpenContainer::open(const std::string& path, std::string& error) {
  std::unique_ptr<OpenContainer> c(new OpenContainer());
  c->path = path;
  struct stat st;
  if (!statFile(path, st)) {
    error = "cannot open the file";
    return nullptr;
  }
  c->size_ = st.st_size;
  c->mtime_ = st.st_mtim;
  c->format = avformat_alloc_context();
  if (!c->format) {
    error = "out of memory";
    return nullptr;
  }
  // Blocking reads give up when the job is cancelled or late.
  c->format->interrupt_callback.callback = interruptCallback;
  c->format->interrupt_callback.opaque = &c->interrupt;
  // "file:" as the ffmpeg program is given it: a name with a colon is never taken for a protocol.
  int ret = avformat_open_input(&c->format, ("file:" + path).c_str(), nullptr, nullptr);
  if (ret < 0) {
    error = averror(ret);  // avformat_open_input frees the context on failure
    return nullptr;
  }
  ret = avformat_find_stream_info(c->format, nullptr);
  if (ret < 0) {
    error = averror(ret);
    return nullptr;
  }
  for (unsigned i = 0; i < c->format->nb_streams; i++) {
    const AVStream* s = c->format->streams[i];
    // Cover art is a video stream of one picture, not the video.
    if (c->videoIndex < 0 && s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(s->disposition & AV_DISPOSITION_ATTACHED_PIC)) c->videoIndex = static_cast<int>(i);
    if (c->audioIndex < 0 && s->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) c->audioIndex = static_cast<int>(i);
  }
  // Packets of other streams are skipped by the demuxer instead of being read and dropped here.
  for (unsigned i = 0; i < c->format->nb_streams; i++) {
    if (static_cast<int>(i) != c->videoIndex && static_cast<int>(i) != c->audioIndex) c->format->streams[i]->discard = AVDISCARD_ALL;
  }
  return c;
}

OpenContainer::~OpenContainer() {
  avcodec_free_context(&video);
  avcodec_free_context(&audio);
  if (format) avformat_close_input(&format);
}

bool OpenContainer::openDecoder(bool forVideo, std::string& error) {
  AVCodecContext*& ctx = forVideo ? video : audio;
  if (ctx) return true;
  const AVStream* stream = format->streams[forVideo ? videoIndex : audioIndex];
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec) {
    error = std::string("no decoder for ") + avcodec_get_name(stream->codecpar->codec_id);
    return false;
  }
  AVCodecContext* opened = avcodec_alloc_context3(codec);
  if (!opened) {
    error = "out of memory";
    return false;
  }
  int ret = avcodec_parameters_to_context(opened, stream->codecpar);
  // One codec thread per job: parallelism comes from decoding several clips at once, which scales better
  // than frame threads inside one short clip.
  opened->thread_count = 1;
  opened->pkt_timebase = stream->time_base;
  if (ret >= 0) ret = avcodec_open2(opened, codec, nullptr);
  if (ret < 0) {
    avcodec_free_context(&opened);
    error = std::string("cannot open the ") + avcodec_get_name(stream->codecpar->codec_id) + " decoder: " + averror(ret);
    return false;
  }
  ctx = opened;
  return true;
}

bool OpenContainer::reopenDecoders(std::string& error) {
  const bool hadVideo = video != nullptr, hadAudio = audio != nullptr;
  avcodec_free_context(&video);
  avcodec_free_context(&audio);
  return (!hadVideo || openDecoder(true, error)) && (!hadAudio || openDecoder(false, error));
}

bool OpenContainer::unchangedOnDisk() const {
  struct stat st;
  return statFile(path, st) && st.st_size == size_ && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec;
}

std::unique_ptr<OpenContainer> checkOutContainer(const std::string& path, std::string& error) {
  std::unique_ptr<OpenContainer> found;
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    for (auto it = idle.begin(); it != idle.end(); ++it) {
      if ((*it)->path == path) {
        found = std::move(*it);
        idle.erase(it);
        break;
      }
    }
  }
  // A file rewritten since it was opened (a re-encoded copy, `avid prepare` resumed) is opened again.
  if (found && found->unchangedOnDisk()) return found;
  found.reset();
  return OpenContainer::open(path, error);
}

void checkInContainer(std::unique_ptr<OpenContainer> container) {
  if (!container) return;
  container->interrupt = InterruptState{};
  std::list<std::unique_ptr<OpenContainer>> closing;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    // Two jobs may have opened the same file at once; keep the one given back last.
    for (auto it = idle.begin(); it != idle.end();) {
      if ((*it)->path == container->path) {
        closing.push_back(std::move(*it));
        it = idle.erase(it);
      } else {
        ++it;
      }
    }
    idle.push_front(std::move(container));
    while (idle.size() > cacheCapacity()) {
      closing.push_back(std::move(idle.back()));
      idle.pop_back();
    }
  }
}

int cachedContainerCount() {
  std::lock_guard<std::mutex> lock(cacheMutex);
  return static_cast<int>(idle.size());
}

void clearContainerCache() {
  std::list<std::unique_ptr<OpenContainer>> closing;
  std::lock_guard<std::mutex> lock(cacheMutex);
  closing.swap(idle);
}

}  // namespace avid::media
