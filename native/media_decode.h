// In-process decoding of clips with FFmpeg's libraries (libavformat, libavcodec, libswscale, libswresample).
// Plain C++ with no Node-API types: media_binding.cc runs it off the JavaScript thread.
//
// The results are meant to equal what the ffmpeg program gives for the same request
// (`ffmpeg -ss START -i FILE -vf setpts=PTS-STARTPTS,fps=F,crop,scale=W:H:flags=bilinear[,hflip],format=rgb24`
// for video, `-ss START -i FILE -ac 1 -ar R` for audio), because the datasets, the tests and the
// reference figures were built on that path; media_decode.cc says where each rule comes from.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace avid::media {

struct VideoRequest {
  double startSec = 0;
  int numFrames = 0;
  double fps = 0;
  int outWidth = 0;
  int outHeight = 0;
  bool hasCrop = false;
  // The crop box in displayed source pixels (after rotation), already rounded to integers.
  int cropX = 0, cropY = 0, cropWidth = 0, cropHeight = 0;
  bool flip = false;
  // numFrames × outHeight × outWidth × 3 bytes, owned by the caller (JavaScript memory).
  uint8_t* pixels = nullptr;
};

struct AudioRequest {
  double startSec = 0;  // may be negative: silence before time 0
  double durationSec = 0;
  int sampleRate = 0;
  // round(durationSec × sampleRate) floats, zero-filled by the caller, owned by the caller.
  float* samples = nullptr;
  int64_t totalSamples = 0;
};

struct ClipRequest {
  bool wantVideo = false;
  bool wantAudio = false;
  VideoRequest video;
  AudioRequest audio;
};

// An empty `reason` means success. Reasons are short and stable (they are counted): "no video stream",
// "no audio stream", "unreadable", "no frames", "decode timed out", "aborted".
struct ClipResult {
  std::string reason;
  std::string detail;
  int decodedFrames = 0;
  int64_t decodedSamples = 0;  // samples written after the leading silence
};

struct JobControl {
  // Set (non-zero) by JavaScript when the caller's AbortSignal fires; polled between packets.
  const int32_t* cancelFlag = nullptr;
  // Set when the Node environment is shutting down.
  const std::atomic<bool>* stopping = nullptr;
  double timeoutMsPerClip = 60000;
  // Which clips share a forward pass. false: clips that start within a second of the previous one's end (the
  // fastest; a clip's frames and samples may then differ slightly from decoding it alone, see decodeClips).
  // true: only clips whose own seek lands on the same packet, so that every clip is byte-identical to
  // decoding it alone (training batches must not depend on which clips happen to share a batch).
  bool joinOnlySameSeek = false;
};

// Decodes `clips` (any order; they are processed by start time) from one file, writing into the caller's
// buffers. Clips close in time (or, with control.joinOnlySameSeek, reached from the same seek) share one
// forward pass; otherwise the decoder seeks. Never throws for bad
// media: every failure is reported in the clip's result.
std::vector<ClipResult> decodeClips(const std::string& path, const std::vector<ClipRequest>& clips, const JobControl& control);

// Open containers kept for reuse (idle ones), and a way to close them all (tests, file-handle checks).
int cachedContainerCount();
void clearContainerCache();

}  // namespace avid::media
