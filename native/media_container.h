// An open media file (demuxer and the decoders of its first video and first audio stream), and the bounded,
// thread-safe cache that keeps a few of them open between clips: opening an MP4 (reading its index,
// probing the streams, opening the decoders) costs as much as decoding several frames, and training reads
// the same videos over and over.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>

#include "media_decode.h"

namespace avid::media {

// What an interrupted blocking read checks: the job that holds the container right now.
struct InterruptState {
  const JobControl* control = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool timedOut = false;
  bool cancelled() const;
  // True (and records why) when the job was cancelled or ran past its deadline.
  bool shouldStop();
};

class OpenContainer {
 public:
  // Opens `path`; on failure returns nullptr and sets `error` (the detail of an "unreadable" reason).
  static std::unique_ptr<OpenContainer> open(const std::string& path, std::string& error);
  ~OpenContainer();
  OpenContainer(const OpenContainer&) = delete;
  OpenContainer& operator=(const OpenContainer&) = delete;

  AVFormatContext* format = nullptr;
  int videoIndex = -1;
  int audioIndex = -1;
  AVCodecContext* video = nullptr;  // opened lazily: a job that wants only audio does not pay for it
  AVCodecContext* audio = nullptr;
  std::string path;
  InterruptState interrupt;
  // Read to the end of the file. Some demuxers (AVI) then deliver nothing after a seek back, so such a
  // container is closed rather than reused.
  bool reachedEnd = false;
  // Read from since it was opened: a failed seek then leaves it at an unknown position.
  bool used = false;

  // Opens the decoder of the video or audio stream if needed; false with `error` set when it cannot.
  bool openDecoder(bool forVideo, std::string& error);
  // Replaces the open decoders by fresh ones. After a seek the ffmpeg program decodes with a decoder that
  // has seen nothing before; a flushed one can differ (AAC keeps its overlap buffers through a flush), and
  // the first frames after the seek would then not match.
  bool reopenDecoders(std::string& error);
  // Whether the file on disk is still the one that was opened (same size and modification time).
  bool unchangedOnDisk() const;

 private:
  OpenContainer() = default;
  off_t size_ = 0;
  struct timespec mtime_ {};
};

// Takes a container for `path` out of the cache (exclusive use by one job) or opens one.
std::unique_ptr<OpenContainer> checkOutContainer(const std::string& path, std::string& error);
// Gives it back for reuse; the least recently used idle containers are closed beyond the cache's capacity.
void checkInContainer(std::unique_ptr<OpenContainer> container);

}  // namespace avid::media
