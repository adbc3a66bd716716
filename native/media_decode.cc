// Decoding clips in process (see media_decode.h).
//
// Each rule below reproduces what the ffmpeg program (5.1) does for the command lines that avid used before,
// so that the in-process frames and samples equal the ones the datasets were built with:
//   -ss S before -i  → the input's timestamps are shifted by −(S + the file's start time); the demuxer seeks
//                      to the keyframe at or before that time; a trim filter drops what lies before 0.
//   setpts=PTS-STARTPTS → time zero is the first frame kept.
//   fps=F            → output frame n shows the last frame whose time, rounded to the nearest 1/F, is ≤ n;
//                      at the end of the file the last frame repeats up to its end time (rounded likewise,
//                      after setpts has shifted it too).
//   crop             → the box is clamped into the frame and aligned to the chroma subsampling.
//   scale (bilinear) → one swscale call to rgb24 with vf_scale's options and colour matrix.
//   -ac 1 -ar R      → one swresample context from the cut point on (aresample's defaults).
// Display rotation is applied first, as the ffmpeg program's autorotation does.
#include "media_decode.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>

#include "media_container.h"

namespace avid::media {

namespace {

// Clips that start within this many seconds after the end of the previous one are decoded in the same
// forward pass; farther apart, seeking (to a keyframe, then decoding up to the clip) is cheaper.
constexpr double kJoinGapSec = 1.0;

std::string averror(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof text);
  return text;
}

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

int64_t toMicroseconds(double seconds) { return std::llround(std::max(0.0, seconds) * 1e6); }

// Where ffmpeg puts time zero for `-ss startSec`, in AV_TIME_BASE units of the file's timeline.
int64_t timelineZero(const AVFormatContext* format, double startSec) {
  return toMicroseconds(startSec) + (format->start_time != AV_NOPTS_VALUE ? format->start_time : 0);
}

// --- display rotation (ffmpeg's autorotate: transpose / hflip / vflip before the user's filters) -------------

struct Orientation {
  bool transpose = false;
  bool mirrorX = false;  // after transposing, if transposed: source x runs backwards
  bool mirrorY = false;
  bool any() const { return transpose || mirrorX || mirrorY; }
};

Orientation displayOrientation(const AVStream* stream) {
  Orientation o;
  const int32_t* m = reinterpret_cast<const int32_t*>(av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
  if (!m) return o;
  double theta = -std::round(av_display_rotation_get(m));
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  // transpose=clock: dst(x,y) = src(y, H-1-x); cclock: src(W-1-y, x); the _flip variants mirror once more.
  if (std::fabs(theta - 90) < 1.0) {
    o.transpose = true;
    if (m[3] > 0) {  // cclock_flip: a plain transpose
    } else {
      o.mirrorY = true;  // clock
    }
  } else if (std::fabs(theta - 180) < 1.0) {
    o.mirrorX = m[0] < 0;
    o.mirrorY = m[4] < 0;
  } else if (std::fabs(theta - 270) < 1.0) {
    o.transpose = true;
    if (m[3] < 0) {  // clock_flip
      o.mirrorX = true;
      o.mirrorY = true;
    } else {
      o.mirrorX = true;  // cclock
    }
  } else if (std::fabs(theta) < 1.0) {
    o.mirrorY = m[4] < 0;
  }
  // Other angles (rare: ffmpeg would rotate by an arbitrary angle with black corners) are left as stored.
  return o;
}

// The frame as displayed. Works on every plane of planar or packed formats whose chroma is subsampled
// equally in both directions (the formats ffmpeg's transpose filter accepts).
FramePtr orient(const AVFrame* src, const Orientation& o, std::string& error) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(src->format));
  if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_PAL)) ||
      (o.transpose && desc->log2_chroma_w != desc->log2_chroma_h)) {
    error = std::string("cannot rotate frames of pixel format ") + (desc ? desc->name : "?");
    return nullptr;
  }
  FramePtr dst(av_frame_alloc());
  if (!dst) {
    error = "out of memory";
    return nullptr;
  }
  dst->format = src->format;
  dst->width = o.transpose ? src->height : src->width;
  dst->height = o.transpose ? src->width : src->height;
  if (av_frame_get_buffer(dst.get(), 0) < 0 || av_frame_copy_props(dst.get(), src) < 0) {
    error = "out of memory";
    return nullptr;
  }
  int steps[4];
  av_image_fill_max_pixsteps(steps, nullptr, desc);
  for (int p = 0; p < 4 && src->data[p]; p++) {
    const bool chroma = (p == 1 || p == 2);
    const int sw = chroma ? AV_CEIL_RSHIFT(src->width, desc->log2_chroma_w) : src->width;
    const int sh = chroma ? AV_CEIL_RSHIFT(src->height, desc->log2_chroma_h) : src->height;
    const int dw = o.transpose ? sh : sw;
    const int dh = o.transpose ? sw : sh;
    const int step = steps[p];
    for (int y = 0; y < dh; y++) {
      uint8_t* out = dst->data[p] + static_cast<ptrdiff_t>(y) * dst->linesize[p];
      for (int x = 0; x < dw; x++) {
        int sx = o.transpose ? y : x;
        int sy = o.transpose ? x : y;
        if (o.mirrorX) sx = sw - 1 - sx;
        if (o.mirrorY) sy = sh - 1 - sy;
        std::memcpy(out + static_cast<ptrdiff_t>(x) * step, src->data[p] + static_cast<ptrdiff_t>(sy) * src->linesize[p] + static_cast<ptrdiff_t>(sx) * step, step);
      }
    }
  }
  return dst;
}

// --- colour matrix as vf_scale chooses it (in_color_matrix=auto: the frame's own colorspace) ------------------

const int* colourMatrix(AVColorSpace space) {
  int s = static_cast<int>(space);
  if (s < 1 || s > 10 || s == 8) s = AVCOL_SPC_BT470BG;
  return sws_getCoefficients(s);
}

// --- one video clip: frame selection, crop, scale, flip --------------------------------------------------------

class VideoWindow {
 public:
  VideoWindow(const VideoRequest& request, ClipResult& result, const AVStream* stream, int64_t zeroUs, Orientation orientation)
      : req_(request), result_(result), tb_(stream->time_base), orientation_(orientation) {
    shift_ = av_rescale_q(-zeroUs, AV_TIME_BASE_Q, tb_);
    outTb_ = av_inv_q(av_d2q(request.fps, 1001000));
    frameBytes_ = static_cast<size_t>(request.outWidth) * request.outHeight * 3;
  }
  ~VideoWindow() { sws_freeContext(sws_); }

  bool done() const { return done_; }
  const std::string& error() const { return error_; }

  // A decoded frame (display order) with its best-effort timestamp in the stream's time base.
  void onFrame(const AVFrame* frame, int64_t pts, uint64_t serial) {
    if (done_) return;
    const int64_t t = pts + shift_;
    if (!started_) {
      if (t < 0) return;  // the trim filter: before the requested start
      started_ = true;
      first_ = t;
    }
    const int64_t n = av_rescale_q_rnd(t - first_, tb_, outTb_, static_cast<AVRounding>(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX));
    if (current_) {
      while (next_ < n && produced_ < req_.numFrames && error_.empty()) emit();
      if (produced_ >= req_.numFrames || !error_.empty()) return finish();
    } else {
      next_ = n;
    }
    current_.reset(av_frame_clone(frame));
    currentSerial_ = serial;
  }

  // Whether a frame at `pts` (stream time base) that the next frame in display order follows at `pts + gap`
  // can never be shown by this window, so that a decoder may skip it: the window has finished, or has started
  // and the frame rounds to the same output slot as its successor (the fps filter then shows the successor,
  // or the frame before, never this one). Before the window starts nothing is skippable here: the first
  // frame at or after the start fixes time zero (the pre-roll before it is handled by the caller).
  bool neverShows(int64_t pts, int64_t gap) const {
    if (done_) return true;
    if (!started_) return false;
    const int64_t t = pts + shift_;
    const AVRounding nearest = static_cast<AVRounding>(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
    return av_rescale_q_rnd(t - first_, tb_, outTb_, nearest) == av_rescale_q_rnd(t + gap - first_, tb_, outTb_, nearest);
  }

  // End of the file: `endPts` is the end time of the last decoded frame (its timestamp plus its duration).
  void onEnd(int64_t endPts) {
    if (done_) return;
    if (current_ && endPts != AV_NOPTS_VALUE) {
      // setpts passes the end of the stream through its expression too (PTS-STARTPTS).
      const int64_t end = av_rescale_q_rnd(endPts + shift_ - first_, tb_, outTb_, static_cast<AVRounding>(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX));
      while (next_ < end && produced_ < req_.numFrames && error_.empty()) emit();
    }
    finish();
  }

 private:
  void finish() {
    done_ = true;
    current_.reset();
    result_.decodedFrames = produced_;
    if (!error_.empty() || produced_ == 0) return;
    // The file ended before the clip did: repeat the last frame (counted as padding by the caller).
    for (int k = produced_; k < req_.numFrames; k++) std::memcpy(req_.pixels + k * frameBytes_, req_.pixels + (produced_ - 1) * frameBytes_, frameBytes_);
  }

  void emit() {
    uint8_t* out = req_.pixels + static_cast<size_t>(produced_) * frameBytes_;
    if (produced_ > 0 && currentSerial_ == writtenSerial_) {
      std::memcpy(out, out - frameBytes_, frameBytes_);  // the same source frame again: no second conversion
    } else if (!convert(current_.get(), out)) {
      return;
    }
    writtenSerial_ = currentSerial_;
    produced_++;
    next_++;
  }

  bool convert(const AVFrame* decoded, uint8_t* out) {
    FramePtr oriented;
    const AVFrame* src = decoded;
    if (orientation_.any()) {
      oriented = orient(decoded, orientation_, error_);
      if (!oriented) return false;
      src = oriented.get();
    }
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(src->format));
    if (!desc) {
      error_ = "unknown pixel format";
      return false;
    }
    // The crop filter: the size must fit; the corner is clamped into the frame, then both are aligned to the
    // chroma subsampling (so a crop of a 4:2:0 frame starts and spans even pixels).
    int w = src->width, h = src->height, x = 0, y = 0;
    if (req_.hasCrop) {
      w = req_.cropWidth;
      h = req_.cropHeight;
      if (w <= 0 || h <= 0 || w > src->width || h > src->height) {
        error_ = "crop box " + std::to_string(req_.cropWidth) + "x" + std::to_string(req_.cropHeight) + " does not fit the " +
                 std::to_string(src->width) + "x" + std::to_string(src->height) + " frame";
        return false;
      }
      w &= ~((1 << desc->log2_chroma_w) - 1);
      h &= ~((1 << desc->log2_chroma_h) - 1);
      x = std::max(0, req_.cropX);
      y = std::max(0, req_.cropY);
      if (x + w > src->width) x = src->width - w;
      if (y + h > src->height) y = src->height - h;
      x &= ~((1 << desc->log2_chroma_w) - 1);
      y &= ~((1 << desc->log2_chroma_h) - 1);
    }
    int steps[4];
    av_image_fill_max_pixsteps(steps, nullptr, desc);
    const uint8_t* planes[4] = {nullptr, nullptr, nullptr, nullptr};
    int strides[4] = {0, 0, 0, 0};
    const bool palette = desc->flags & AV_PIX_FMT_FLAG_PAL;
    for (int p = 0; p < 4 && src->data[p]; p++) {
      strides[p] = src->linesize[p];
      if (palette && p > 0) {
        planes[p] = src->data[p];  // the palette itself, not an image plane
        continue;
      }
      const bool chroma = p == 1 || p == 2;
      const int py = chroma ? (y >> desc->log2_chroma_h) : y;
      const int px = chroma ? ((x * steps[p]) >> desc->log2_chroma_w) : x * steps[p];
      planes[p] = src->data[p] + static_cast<ptrdiff_t>(py) * src->linesize[p] + px;
    }
    if (!sws_ || swsWidth_ != w || swsHeight_ != h || swsFormat_ != src->format) {
      sws_freeContext(sws_);
      sws_ = createScaler(w, h, static_cast<AVPixelFormat>(src->format));
      if (!sws_) {
        error_ = std::string("cannot convert ") + desc->name + " frames to rgb24";
        return false;
      }
      swsWidth_ = w;
      swsHeight_ = h;
      swsFormat_ = src->format;
    }
    // vf_scale sets the colour matrix and range per frame from the frame's own properties.
    int* invTable;
    int* table;
    int srcRange, dstRange, brightness, contrast, saturation;
    sws_getColorspaceDetails(sws_, &invTable, &srcRange, &table, &dstRange, &brightness, &contrast, &saturation);
    const int* matrix = colourMatrix(src->colorspace);
    if (src->color_range != AVCOL_RANGE_UNSPECIFIED) srcRange = src->color_range == AVCOL_RANGE_JPEG;
    sws_setColorspaceDetails(sws_, matrix, srcRange, matrix, dstRange, brightness, contrast, saturation);
    // Into an aligned frame first: swscale's SIMD paths (and their rounding) are chosen by alignment, and
    // the ffmpeg program always scales into aligned frames.
    if (!rgb_) {
      rgb_.reset(av_frame_alloc());
      rgb_->format = AV_PIX_FMT_RGB24;
      rgb_->width = req_.outWidth;
      rgb_->height = req_.outHeight;
      if (av_frame_get_buffer(rgb_.get(), 0) < 0) {
        rgb_.reset();
        error_ = "out of memory";
        return false;
      }
    }
    sws_scale(sws_, planes, strides, 0, h, rgb_->data, rgb_->linesize);
    const size_t row = static_cast<size_t>(req_.outWidth) * 3;
    for (int r = 0; r < req_.outHeight; r++) {
      const uint8_t* line = rgb_->data[0] + static_cast<ptrdiff_t>(r) * rgb_->linesize[0];
      uint8_t* target = out + r * row;
      if (!req_.flip) {
        std::memcpy(target, line, row);
      } else {
        for (int c = 0; c < req_.outWidth; c++) std::memcpy(target + 3 * c, line + 3 * (req_.outWidth - 1 - c), 3);
      }
    }
    return true;
  }

  // The options vf_scale gives swscale (flags=bilinear from the filter's arguments, MPEG-2 chroma siting
  // for yuv420p input).
  SwsContext* createScaler(int w, int h, AVPixelFormat format) const {
    SwsContext* s = sws_alloc_context();
    if (!s) return nullptr;
    av_opt_set_int(s, "srcw", w, 0);
    av_opt_set_int(s, "srch", h, 0);
    av_opt_set_int(s, "src_format", format, 0);
    av_opt_set_int(s, "dstw", req_.outWidth, 0);
    av_opt_set_int(s, "dsth", req_.outHeight, 0);
    av_opt_set_int(s, "dst_format", AV_PIX_FMT_RGB24, 0);
    av_opt_set_int(s, "sws_flags", SWS_BILINEAR, 0);
    av_opt_set_int(s, "param0", SWS_PARAM_DEFAULT, 0);
    av_opt_set_int(s, "param1", SWS_PARAM_DEFAULT, 0);
    av_opt_set_int(s, "src_h_chr_pos", -513, 0);
    av_opt_set_int(s, "src_v_chr_pos", format == AV_PIX_FMT_YUV420P ? 128 : -513, 0);
    av_opt_set_int(s, "dst_h_chr_pos", -513, 0);
    av_opt_set_int(s, "dst_v_chr_pos", -513, 0);
    if (sws_init_context(s, nullptr, nullptr) < 0) {
      sws_freeContext(s);
      return nullptr;
    }
    return s;
  }

  const VideoRequest& req_;
  ClipResult& result_;
  AVRational tb_;
  AVRational outTb_;
  Orientation orientation_;
  int64_t shift_ = 0;
  size_t frameBytes_ = 0;
  bool started_ = false;
  bool done_ = false;
  int64_t first_ = 0;
  int64_t next_ = 0;
  int produced_ = 0;
  FramePtr current_;
  uint64_t currentSerial_ = 0;
  uint64_t writtenSerial_ = 0;
  SwsContext* sws_ = nullptr;
  int swsWidth_ = 0, swsHeight_ = 0, swsFormat_ = -1;
  FramePtr rgb_;
  std::string error_;
};

// --- one audio window: cut, downmix, resample ------------------------------------------------------------------

class AudioWindow {
 public:
  AudioWindow(const AudioRequest& request, ClipResult& result, const AVStream* stream, int64_t zeroUs) : req_(request), result_(result), tb_(stream->time_base) {
    shift_ = av_rescale_q(-zeroUs, AV_TIME_BASE_Q, tb_);
    leading_ = std::min(req_.totalSamples, std::max<int64_t>(0, std::llround(-req_.startSec * req_.sampleRate)));
    wanted_ = req_.totalSamples - leading_;
    if (wanted_ <= 0) done_ = true;
  }
  ~AudioWindow() { swr_free(&swr_); }

  bool done() const { return done_; }
  const std::string& error() const { return error_; }

  void onFrame(const AVFrame* frame) {
    if (done_ || frame->nb_samples <= 0 || frame->sample_rate <= 0) return;
    const AVRational sampleTb = {1, frame->sample_rate};
    int64_t cut = 0;
    if (frame->pts != AV_NOPTS_VALUE) {
      // ffmpeg's decode_audio: timestamps to 1/sample_rate, kept continuous across frames (av_rescale_delta).
      const int64_t p = av_rescale_delta(tb_, frame->pts + shift_, sampleTb, frame->nb_samples, &rescaleLast_, sampleTb);
      if (!started_) {
        if (p + frame->nb_samples <= 0) return;  // the atrim filter: wholly before the start
        cut = p < 0 ? -p : 0;
      }
    }
    started_ = true;
    if (!swr_ && !createResampler(frame)) return;
    const uint8_t* in[AV_NUM_DATA_POINTERS] = {nullptr};
    const int bytes = av_get_bytes_per_sample(static_cast<AVSampleFormat>(frame->format));
    const int channels = frame->ch_layout.nb_channels;
    if (av_sample_fmt_is_planar(static_cast<AVSampleFormat>(frame->format))) {
      if (channels > AV_NUM_DATA_POINTERS) {
        error_ = "too many audio channels";
        done_ = true;
        return;
      }
      for (int c = 0; c < channels; c++) in[c] = frame->extended_data[c] + cut * bytes;
    } else {
      in[0] = frame->extended_data[0] + cut * bytes * channels;
    }
    convert(in, static_cast<int>(frame->nb_samples - cut));
  }

  void onEnd() {
    if (done_) return;
    if (swr_) convert(nullptr, 0);  // the resampler's delayed tail
    done_ = true;
    result_.decodedSamples = written_;
  }

 private:
  bool createResampler(const AVFrame* frame) {
    AVChannelLayout inLayout;
    if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      av_channel_layout_default(&inLayout, frame->ch_layout.nb_channels);  // as ffmpeg guesses a layout
    } else if (av_channel_layout_copy(&inLayout, &frame->ch_layout) < 0) {
      error_ = "out of memory";
      done_ = true;
      return false;
    }
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int ret = swr_alloc_set_opts2(&swr_, &mono, AV_SAMPLE_FMT_FLT, req_.sampleRate, &inLayout, static_cast<AVSampleFormat>(frame->format), frame->sample_rate, 0, nullptr);
    av_channel_layout_uninit(&inLayout);
    if (ret >= 0) ret = swr_init(swr_);
    if (ret < 0) {
      error_ = "cannot resample the audio: " + averror(ret);
      done_ = true;
      return false;
    }
    return true;
  }

  // Converts `count` input samples (nullptr: drain) into the caller's buffer, after the leading silence.
  void convert(const uint8_t** in, int count) {
    for (;;) {
      const int room = swr_get_out_samples(swr_, count);
      if (room <= 0) break;
      scratch_.resize(static_cast<size_t>(room));
      uint8_t* out = reinterpret_cast<uint8_t*>(scratch_.data());
      const int got = swr_convert(swr_, &out, room, in, count);
      if (got < 0) {
        error_ = "resampling failed: " + averror(got);
        done_ = true;
        return;
      }
      const int64_t keep = std::min<int64_t>(got, wanted_ - written_);
      std::memcpy(req_.samples + leading_ + written_, scratch_.data(), static_cast<size_t>(keep) * sizeof(float));
      written_ += keep;
      if (written_ >= wanted_) {
        done_ = true;
        result_.decodedSamples = written_;
        swr_free(&swr_);
        return;
      }
      if (in || got == 0) break;  // input converted; when draining, repeat until nothing is left
    }
  }

  const AudioRequest& req_;
  ClipResult& result_;
  AVRational tb_;
  int64_t shift_ = 0;
  int64_t leading_ = 0;
  int64_t wanted_ = 0;
  int64_t written_ = 0;
  int64_t rescaleLast_ = AV_NOPTS_VALUE;
  bool started_ = false;
  bool done_ = false;
  SwrContext* swr_ = nullptr;
  std::vector<float> scratch_;
  std::string error_;
};

// --- a forward pass over a group of clips ----------------------------------------------------------------------

struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

struct StreamStats {
  int decodedFrames = 0;
  int errors = 0;
  std::string lastError;
};

// Sends one packet (nullptr: drain at end of file) and hands every frame that comes out to `onFrame`.
// Undecodable packets are counted and skipped, as the ffmpeg program does.
void decodePacket(AVCodecContext* codec, const AVPacket* packet, AVFrame* frame, StreamStats& stats, const std::function<void(AVFrame*)>& onFrame) {
  int ret = avcodec_send_packet(codec, packet);
  if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) {
    stats.errors++;
    stats.lastError = averror(ret);
    if (packet) return;
  }
  for (;;) {
    ret = avcodec_receive_frame(codec, frame);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    if (ret < 0) {
      stats.errors++;
      stats.lastError = averror(ret);
      return;
    }
    stats.decodedFrames++;
    onFrame(frame);
    av_frame_unref(frame);
  }
}

double clipStart(const ClipRequest& c) {
  double s = 1e300;
  if (c.wantVideo) s = std::min(s, std::max(0.0, c.video.startSec));
  if (c.wantAudio) s = std::min(s, std::max(0.0, c.audio.startSec));
  return s;
}

double clipEnd(const ClipRequest& c) {
  double e = 0;
  if (c.wantVideo) e = std::max(e, c.video.startSec + c.video.numFrames / c.video.fps);
  if (c.wantAudio) e = std::max(e, c.audio.startSec + c.audio.durationSec);
  return e;
}

// Frames before a clip's start are dropped (the trim of `-ss`) whatever their type, so only the frames near
// the start must be decoded in full. Where the demuxer's packet timestamps are presentation times (formats
// that seek by pts: MP4, Matroska), a tenth of a second covers the rounding to microseconds and a decoder's
// best-effort timestamp differing from the packet's; elsewhere (AVI: decode-order timestamps, many missing)
// half a second, far more than any frame duration.
constexpr int64_t kPreRollMarginUs = AV_TIME_BASE / 10;
constexpr int64_t kLoosePreRollMarginUs = AV_TIME_BASE / 2;

enum class PassEnd { Finished, Cancelled, TimedOut, SeekFailed };

// The seek of `ffmpeg -ss` for a pass that starts at `seekSec`: on all streams (the default stream picks the
// keyframe), to the time asked, or 3/23 s before it for formats that seek by decoding time and have B-frames.
int64_t seekTarget(const AVFormatContext* format, double seekSec) {
  int64_t seekTs = timelineZero(format, seekSec);
  if (!(format->iformat->flags & AVFMT_SEEK_TO_PTS)) {
    for (unsigned i = 0; i < format->nb_streams; i++) {
      if (format->streams[i]->codecpar->video_delay) {
        seekTs -= 3 * AV_TIME_BASE / 23;
        break;
      }
    }
  }
  return seekTs;
}

// Where a pass for one clip alone would start reading: the first packet after its seek. Two clips with the
// same landing are decoded from the same packets by decoders that have seen nothing before, so one pass for
// both gives each the frames and samples it gets alone (only frames that nothing shows or refers to are
// skipped differently). Unknown (never joined) when the seek or the read fails.
struct SeekLanding {
  bool known = false;
  int stream = -1;
  int64_t pos = -1;
  int64_t dts = AV_NOPTS_VALUE;
  int64_t pts = AV_NOPTS_VALUE;
  bool sameAs(const SeekLanding& o) const { return known && o.known && stream == o.stream && pos == o.pos && dts == o.dts && pts == o.pts; }
};

// Seeks as decodeGroup would for `clip` alone and reads one packet. Leaves the container used (decodeGroup
// seeks again); a read that fails marks it as read to its end, so that it is reopened before decoding.
SeekLanding seekLanding(OpenContainer& c, const ClipRequest& clip, AVPacket* packet) {
  SeekLanding landing;
  AVFormatContext* format = c.format;
  for (unsigned i = 0; i < format->nb_streams; i++) format->streams[i]->discard = AVDISCARD_DEFAULT;
  const int64_t seekTs = seekTarget(format, clipStart(clip));
  c.used = true;
  if (avformat_seek_file(format, -1, INT64_MIN, seekTs, seekTs, 0) < 0) return landing;
  int ret;
  do ret = av_read_frame(format, packet);
  while (ret == AVERROR(EAGAIN) && !c.interrupt.shouldStop());
  if (ret < 0) {
    c.reachedEnd = true;
    return landing;
  }
  landing = SeekLanding{true, packet->stream_index, packet->pos, packet->dts, packet->pts};
  av_packet_unref(packet);
  return landing;
}

// Decodes the clips `group` (indices into clips) in one forward pass from the keyframe before the first.
PassEnd decodeGroup(OpenContainer& c, const std::vector<ClipRequest>& clips, const std::vector<size_t>& group, std::vector<ClipResult>& results) {
  AVFormatContext* format = c.format;
  const int64_t seekTs = seekTarget(format, clipStart(clips[group.front()]));
  for (unsigned i = 0; i < format->nb_streams; i++) format->streams[i]->discard = AVDISCARD_DEFAULT;
  // A file that cannot seek is read from its start, as the ffmpeg program does, if nothing was read yet.
  if (avformat_seek_file(format, -1, INT64_MIN, seekTs, seekTs, 0) < 0 && c.used) return PassEnd::SeekFailed;
  c.used = true;

  std::vector<std::unique_ptr<VideoWindow>> videos;
  std::vector<std::unique_ptr<AudioWindow>> audios;
  for (size_t i : group) {
    const ClipRequest& clip = clips[i];
    if (clip.wantVideo) {
      const AVStream* s = format->streams[c.videoIndex];
      videos.push_back(std::make_unique<VideoWindow>(clip.video, results[i], s, timelineZero(format, clip.video.startSec), displayOrientation(s)));
    }
    if (clip.wantAudio) audios.push_back(std::make_unique<AudioWindow>(clip.audio, results[i], format->streams[c.audioIndex], timelineZero(format, clip.audio.startSec)));
  }
  for (unsigned i = 0; i < format->nb_streams; i++) {
    const bool needed = (static_cast<int>(i) == c.videoIndex && !videos.empty()) || (static_cast<int>(i) == c.audioIndex && !audios.empty());
    format->streams[i]->discard = needed ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
  std::string decoderError;
  if (!c.reopenDecoders(decoderError)) {
    for (size_t i : group) {
      results[i].reason = "unreadable";
      results[i].detail = decoderError;
    }
    return PassEnd::Finished;
  }

  auto videoPending = [&] { return std::any_of(videos.begin(), videos.end(), [](auto& w) { return !w->done(); }); };
  auto audioPending = [&] { return std::any_of(audios.begin(), audios.end(), [](auto& w) { return !w->done(); }); };

  const AVStream* videoStream = c.videoIndex >= 0 ? format->streams[c.videoIndex] : nullptr;
  // Pre-roll: the frames between the keyframe and the first clip are decoded only to rebuild the reference
  // pictures; frames that nothing refers to (most B-frames) are skipped there (AVDISCARD_NONREF), which saves
  // a large share of the decoding of a random clip in a long-GOP file. Frames before a clip's start are dropped
  // anyway (the trim of `-ss`), and the reference frames are decoded in full, so the kept frames are unchanged.
  // The margin keeps every frame near the start decoded whatever the timestamps' rounding.
  const bool presentationTimestamps = format->iformat->flags & AVFMT_SEEK_TO_PTS;
  const int64_t margin = presentationTimestamps ? kPreRollMarginUs : kLoosePreRollMarginUs;
  int64_t preRollEndUs = INT64_MAX;
  for (size_t i : group) {
    if (clips[i].wantVideo) preRollEndUs = std::min(preRollEndUs, timelineZero(format, clips[i].video.startSec) - margin);
  }
  int64_t lastVideoPts = AV_NOPTS_VALUE;
  int64_t lastVideoDuration = 0;
  int64_t minDuration = INT64_MAX, maxDuration = 0;  // of the video packets read in this pass
  uint64_t serial = 0;
  StreamStats videoStats, audioStats;
  FramePtr frame(av_frame_alloc());
  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  if (!frame || !packet) return PassEnd::Cancelled;

  auto onVideo = [&](AVFrame* f) {
    const int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) return;
    lastVideoPts = pts;
#if LIBAVUTIL_VERSION_MAJOR >= 58
    lastVideoDuration = f->duration;
#else
    lastVideoDuration = f->pkt_duration;
#endif
    serial++;
    for (auto& w : videos) w->onFrame(f, pts, serial);
  };
  auto onAudio = [&](AVFrame* f) {
    for (auto& w : audios) w->onFrame(f);
  };

  bool atEnd = false;
  while (videoPending() || audioPending()) {
    if (c.interrupt.shouldStop()) return c.interrupt.timedOut ? PassEnd::TimedOut : PassEnd::Cancelled;
    const int ret = av_read_frame(format, packet.get());
    if (ret == AVERROR(EAGAIN)) continue;
    if (ret < 0) {
      // A read error (a truncated file) ends the input, as in the ffmpeg program: what was decoded counts.
      if (c.interrupt.shouldStop()) return c.interrupt.timedOut ? PassEnd::TimedOut : PassEnd::Cancelled;
      atEnd = true;
      break;
    }
    if (packet->stream_index == c.videoIndex && videoPending()) {
      const bool hasPts = packet->pts != AV_NOPTS_VALUE;
      const bool preRoll = hasPts && av_rescale_q(packet->pts, videoStream->time_base, AV_TIME_BASE_Q) < preRollEndUs;
      // Inside the clips: at 16 fps from a 25–30 fps source a third to a half of the frames are never shown.
      // Those that nothing refers to are skipped too (AVDISCARD_NONREF; a reference frame is decoded whatever
      // this says). The frame after this one in display order is taken to follow by the packet's duration,
      // which holds where packets carry presentation timestamps, all of them did so far, and every packet so
      // far had the same duration (constant frame rate); otherwise nothing is skipped here.
      if (packet->duration > 0 && hasPts && presentationTimestamps) {
        minDuration = std::min(minDuration, packet->duration);
        maxDuration = std::max(maxDuration, packet->duration);
      } else {
        minDuration = 0;  // unknown durations or timestamps: no skipping in this pass
      }
      const bool constantRate = minDuration > 0 && minDuration != INT64_MAX && minDuration == maxDuration;
      const bool unseen = !preRoll && hasPts && constantRate &&
                          std::all_of(videos.begin(), videos.end(), [&](auto& w) { return w->neverShows(packet->pts, packet->duration); });
      c.video->skip_frame = (preRoll || unseen) ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
      decodePacket(c.video, packet.get(), frame.get(), videoStats, onVideo);
    }
    // Audio is decoded from the seek point as the ffmpeg program decodes it, although the audio window may
    // start seconds later: AAC's noise substitution draws from a generator that runs from the decoder's
    // first frame, so dropping the packets before the window changed samples by up to 1.8e-3 (tried, on
    // skateboarding_dog.mp4; the parity limit is 1e-4).
    else if (packet->stream_index == c.audioIndex && audioPending()) decodePacket(c.audio, packet.get(), frame.get(), audioStats, onAudio);
    av_packet_unref(packet.get());
  }
  if (atEnd) {
    c.reachedEnd = true;
    if (videoPending()) decodePacket(c.video, nullptr, frame.get(), videoStats, onVideo);
    if (audioPending()) decodePacket(c.audio, nullptr, frame.get(), audioStats, onAudio);
    // ffmpeg ends the video at the last frame's time plus its duration (rounded through microseconds).
    int64_t endPts = AV_NOPTS_VALUE;
    if (lastVideoPts != AV_NOPTS_VALUE && videoStream) {
      int64_t duration = lastVideoDuration;
      if (duration <= 0 && videoStream->avg_frame_rate.num > 0) duration = av_rescale_q(1, av_inv_q(videoStream->avg_frame_rate), videoStream->time_base);
      const int64_t endUs = av_rescale_q(lastVideoPts, videoStream->time_base, AV_TIME_BASE_Q) + av_rescale_q(duration, videoStream->time_base, AV_TIME_BASE_Q);
      endPts = av_rescale_q_rnd(endUs, AV_TIME_BASE_Q, videoStream->time_base, static_cast<AVRounding>(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX));
    }
    for (auto& w : videos) w->onEnd(endPts);
    for (auto& w : audios) w->onEnd();
  }
  // Results: errors of the conversion first, then what the streams said.
  size_t v = 0, a = 0;
  for (size_t i : group) {
    const ClipRequest& clip = clips[i];
    ClipResult& r = results[i];
    if (clip.wantVideo) {
      const VideoWindow& w = *videos[v++];
      if (!w.error().empty()) {
        r.reason = "unreadable";
        r.detail = w.error();
      } else if (r.decodedFrames == 0) {
        // ffmpeg gives up (exit 69) when most packets failed to decode; otherwise there was nothing there.
        const bool broken = videoStats.errors > 0 && videoStats.decodedFrames == 0;
        r.reason = broken ? "unreadable" : "no frames";
        char from[64];
        std::snprintf(from, sizeof from, "nothing to decode from %.2f s", clip.video.startSec);
        r.detail = broken ? videoStats.lastError : from;
      }
    }
    if (clip.wantAudio && r.reason.empty()) {
      const AudioWindow& w = *audios[a++];
      if (!w.error().empty()) {
        r.reason = "unreadable";
        r.detail = w.error();
      } else if (r.decodedSamples == 0 && audioStats.errors > 0 && audioStats.decodedFrames == 0) {
        r.reason = "unreadable";
        r.detail = audioStats.lastError;
      }
    } else if (clip.wantAudio) {
      a++;
    }
  }
  return PassEnd::Finished;
}

}  // namespace

std::vector<ClipResult> decodeClips(const std::string& path, const std::vector<ClipRequest>& clips, const JobControl& control) {
  std::vector<ClipResult> results(clips.size());
  auto failAll = [&](const std::vector<size_t>& which, const std::string& reason, const std::string& detail) {
    for (size_t i : which) {
      if (results[i].reason.empty()) {
        results[i].reason = reason;
        results[i].detail = detail;
      }
    }
  };
  std::vector<size_t> all(clips.size());
  for (size_t i = 0; i < clips.size(); i++) all[i] = i;

  std::string error;
  std::unique_ptr<OpenContainer> container = checkOutContainer(path, error);
  if (!container) {
    failAll(all, "unreadable", error);
    return results;
  }
  // Streams and decoders each clip needs; a clip that cannot have them fails alone.
  std::vector<size_t> runnable;
  for (size_t i : all) {
    const ClipRequest& clip = clips[i];
    ClipResult& r = results[i];
    if (clip.wantVideo && container->videoIndex < 0) r.reason = "no video stream";
    else if (clip.wantAudio && container->audioIndex < 0) r.reason = "no audio stream";
    else if (clip.wantVideo && !container->openDecoder(true, r.detail)) r.reason = "unreadable";
    else if (clip.wantAudio && !container->openDecoder(false, r.detail)) r.reason = "unreadable";
    else runnable.push_back(i);
  }
  std::stable_sort(runnable.begin(), runnable.end(), [&](size_t a, size_t b) { return clipStart(clips[a]) < clipStart(clips[b]); });

  // Joining only clips reached from the same seek: where each clip's seek lands, found before any decoding
  // (sorted by start, equal landings are neighbours). Stops at the first failure: the rest decode alone.
  std::vector<SeekLanding> landings(clips.size());
  if (control.joinOnlySameSeek && runnable.size() > 1) {
    const auto budget = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double, std::milli>(control.timeoutMsPerClip));
    container->interrupt = InterruptState{&control, std::chrono::steady_clock::now() + budget, false};
    std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
    for (size_t i : runnable) {
      if (!packet || container->interrupt.shouldStop()) break;
      landings[i] = seekLanding(*container, clips[i], packet.get());
      if (!landings[i].known) break;
    }
    // An interrupted read may leave the demuxer in an error state: decode from a freshly opened file.
    if (container->interrupt.timedOut || container->interrupt.cancelled()) container->reachedEnd = true;
  }
  auto joins = [&](size_t previous, size_t next, double groupEnd) {
    if (control.joinOnlySameSeek) return landings[previous].sameAs(landings[next]);
    return clipStart(clips[next]) <= groupEnd + kJoinGapSec;
  };

  bool reusable = true;
  for (size_t first = 0; first < runnable.size();) {
    std::vector<size_t> group{runnable[first]};
    double groupEnd = clipEnd(clips[runnable[first]]);
    size_t next = first + 1;
    while (next < runnable.size() && joins(runnable[next - 1], runnable[next], groupEnd)) {
      groupEnd = std::max(groupEnd, clipEnd(clips[runnable[next]]));
      group.push_back(runnable[next++]);
    }
    const auto perGroup = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double, std::milli>(control.timeoutMsPerClip * group.size()));
    container->interrupt = InterruptState{&control, std::chrono::steady_clock::now() + perGroup, false};
    PassEnd end = container->reachedEnd ? PassEnd::SeekFailed : decodeGroup(*container, clips, group, results);
    if (end == PassEnd::SeekFailed) {
      // This container was read to its end, or cannot seek back: start over from a freshly opened file.
      container = OpenContainer::open(path, error);
      bool ok = container != nullptr;
      for (size_t i : runnable) {
        ok = ok && (!clips[i].wantVideo || container->openDecoder(true, error)) && (!clips[i].wantAudio || container->openDecoder(false, error));
      }
      if (!ok) {
        failAll(std::vector<size_t>(runnable.begin() + first, runnable.end()), "unreadable", error.empty() ? "cannot seek" : error);
        return results;
      }
      container->interrupt = InterruptState{&control, std::chrono::steady_clock::now() + perGroup, false};
      end = decodeGroup(*container, clips, group, results);
    }
    if (end == PassEnd::Cancelled || end == PassEnd::TimedOut) {
      reusable = false;  // an interrupted read may leave the demuxer in an error state
      if (end == PassEnd::TimedOut) {
        char detail[64];
        std::snprintf(detail, sizeof detail, "after %g s per clip", control.timeoutMsPerClip / 1000);
        failAll(group, "decode timed out", detail);
        first = next;
        continue;  // later groups get their own time
      }
      failAll(std::vector<size_t>(runnable.begin() + first, runnable.end()), "aborted", "");
      break;
    }
    if (end == PassEnd::SeekFailed) failAll(group, "unreadable", "cannot seek");
    first = next;
  }
  if (reusable && !container->reachedEnd) checkInContainer(std::move(container));
  return results;
}

}  // namespace avid::media
