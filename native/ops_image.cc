// Image operations that are one pass per pixel but dozens of tensor ops when written with ATen's element-wise
// ops: fused here so that the loader's augmentations cost what the arithmetic costs. Same formulas, in the
// same float32 order, as the element-wise versions they replace (torchvision's rgb↔hsv).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common.h"

// This file's loops are meant to vectorise: O3, and no-trapping-math, which lets the compiler compute both
// sides of a select (divisions included) instead of branching around them. Neither changes a result (no
// reassociation, no contraction beyond what -O2 does); they are set for the whole file because functions
// with different optimisation options are not inlined into each other.
#pragma GCC optimize("O3", "no-trapping-math")

namespace avid {

namespace {

inline float clamp01(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }

// floor(a) without a libm call, for the finite values of this file (NaN passes through).
inline float floorOf(float a) {
  if (!(std::fabs(a) < 1e9f)) return std::floor(a);
  const float t = static_cast<float>(static_cast<int64_t>(a));
  return t > a ? t - 1.f : t;
}

// Hue rotation of one pixel by `offset` = 1 + shift turns (torchvision's rgb→hsv, shift, hsv→rgb). Written
// with selects and table look-ups rather than branches: on natural images the branches (which channel is the
// maximum, which sector the hue falls in) mispredict often enough to triple the cost.
inline void rotateHue(float& r, float& g, float& b, float offset) {
  const float maxc = std::max(r, std::max(g, b));
  const float minc = std::min(r, std::min(g, b));
  const bool equal = maxc == minc;
  const float chroma = maxc - minc;
  const float s = chroma / (equal ? 1.f : maxc);
  const float inverse = 1.f / (equal ? 1.f : chroma);
  const float rc = (maxc - r) * inverse;
  const float gc = (maxc - g) * inverse;
  const float bc = (maxc - b) * inverse;
  const bool isR = maxc == r;
  const bool isG = maxc == g && !isR;
  const float numerator = isR ? (bc - gc) : (isG ? (rc - bc + 2.f) : (gc - rc + 4.f));
  const float shifted = numerator / 6.f + offset;
  const float hue = shifted - floorOf(shifted);  // remainder by 1 (sign of the divisor)
  const float v = maxc;
  const float h6 = hue * 6.f;
  const float sector = floorOf(h6);
  const float f = h6 - sector;
  const float wrapped = sector - 6.f * floorOf(sector / 6.f);
  if (!(wrapped >= 0.f && wrapped < 6.f)) {  // NaN input: zeros, as the element-wise masked sum gave
    r = g = b = 0.f;
    return;
  }
  const int sectorIndex = static_cast<int>(wrapped);
  const float candidates[4] = {v, clamp01(v * (1.f - s * f)), clamp01(v * (1.f - s)), clamp01(v * (1.f - s * (1.f - f)))};  // v, q, p, t
  static constexpr int kRed[6] = {0, 1, 2, 2, 3, 0};
  static constexpr int kGreen[6] = {3, 0, 0, 1, 2, 2};
  static constexpr int kBlue[6] = {2, 2, 3, 0, 0, 1};
  r = candidates[kRed[sectorIndex]];
  g = candidates[kGreen[sectorIndex]];
  b = candidates[kBlue[sectorIndex]];
}

// ITU-R 601 luma, in the order the element-wise version adds the terms.
inline float luma(float r, float g, float b) { return r * 0.299f + g * 0.587f + b * 0.114f; }

inline float blend(float a, float b, float ratio) { return clamp01(a * ratio + b * (1.f - ratio)); }

// One clip's colour jitter (torchvision's ColorJitter on a (3, ...) float32 RGB tensor in [0, 1]): the ops
// named by `order` ('b'rightness, 'c'ontrast, 's'aturation, 'h'ue) in that order, each a pass over the clip;
// contrast blends towards the mean luma of the whole clip (as the element-wise version: statistics per clip).
at::Tensor colorJitter(const at::Tensor& input, double brightness, double contrast, double saturation, double hue, const std::string& order) {
  TORCH_CHECK(input.dim() >= 1 && input.size(0) == 3, "colorJitter: expected a (3, ...) RGB tensor, got shape ", input.sizes());
  at::Tensor out = input.to(at::kCPU, at::kFloat).contiguous().clone();
  const int64_t n = out.numel() / 3;
  float* r = out.data_ptr<float>();
  float* g = r + n;
  float* b = g + n;
  for (const char op : order) {
    if (op == 'b') {
      const float k = static_cast<float>(brightness);
      for (int64_t i = 0; i < 3 * n; i++) r[i] = clamp01(r[i] * k);
    } else if (op == 'c') {
      double sum = 0;
      for (int64_t i = 0; i < n; i++) sum += luma(r[i], g[i], b[i]);
      const float mean = n > 0 ? static_cast<float>(sum / static_cast<double>(n)) : 0.f;
      const float k = static_cast<float>(contrast);
      for (int64_t i = 0; i < 3 * n; i++) r[i] = blend(r[i], mean, k);
    } else if (op == 's') {
      const float k = static_cast<float>(saturation);
      for (int64_t i = 0; i < n; i++) {
        const float y = luma(r[i], g[i], b[i]);
        r[i] = blend(r[i], y, k);
        g[i] = blend(g[i], y, k);
        b[i] = blend(b[i], y, k);
      }
    } else if (op == 'h') {
      const float offset = static_cast<float>(1.0 + hue);
      for (int64_t i = 0; i < n; i++) rotateHue(r[i], g[i], b[i], offset);
    } else {
      TORCH_CHECK(false, "colorJitter: unknown op '", std::string(1, op), "' in order '", order, "' (expected letters of 'bcsh')");
    }
  }
  return out.to(input.options());
}

// --- the fused path from decoded pixels to the network's input ----------------------------------------------
//
// The same arithmetic as colorJitter, pixel for pixel, but over tiles of a few thousand pixels that stay in the
// L1 cache: each op is then a tight loop the compiler vectorises (at O3), and each value is read from and
// written to memory once. The inputs come from uint8 pixels, so they are finite: the hue rotation can drop
// rotateHue's NaN branch and choose its outputs with selects instead of a table, which also vectorises.

constexpr int64_t kTile = 2048;

// floor(a) for finite |a| < 2^31 (int32 conversion: vectorisable, unlike the int64 one of floorOf).
inline float floorSmall(float a) {
  const float t = static_cast<float>(static_cast<int32_t>(a));
  return t > a ? t - 1.f : t;
}

void brightnessTile(float* __restrict r, float* __restrict g, float* __restrict b, int64_t len, float k) {
  for (int64_t i = 0; i < len; i++) {
    r[i] = clamp01(r[i] * k);
    g[i] = clamp01(g[i] * k);
    b[i] = clamp01(b[i] * k);
  }
}

void blendTile(float* __restrict r, float* __restrict g, float* __restrict b, int64_t len, float towards, float k) {
  for (int64_t i = 0; i < len; i++) {
    r[i] = blend(r[i], towards, k);
    g[i] = blend(g[i], towards, k);
    b[i] = blend(b[i], towards, k);
  }
}

void saturationTile(float* __restrict r, float* __restrict g, float* __restrict b, int64_t len, float k) {
  for (int64_t i = 0; i < len; i++) {
    const float y = luma(r[i], g[i], b[i]);
    r[i] = blend(r[i], y, k);
    g[i] = blend(g[i], y, k);
    b[i] = blend(b[i], y, k);
  }
}

// std::max and std::min are instantiated outside this file's optimisation options, so they would not inline.
inline float maxOf(float a, float b) { return a < b ? b : a; }
inline float minOf(float a, float b) { return b < a ? b : a; }

// rotateHue for finite inputs, with the same operations in the same order.
void hueTile(float* __restrict rp, float* __restrict gp, float* __restrict bp, int64_t len, float offset) {
  for (int64_t i = 0; i < len; i++) {
    const float r = rp[i], g = gp[i], b = bp[i];
    const float maxc = maxOf(r, maxOf(g, b));
    const float minc = minOf(r, minOf(g, b));
    const float chroma = maxc - minc;
    // rotateHue divides by 1 where maxc == minc; here by the smallest normal float, which gives the same
    // results (then chroma and maxc − r, g, b are 0) without the select that the compiler turns into a
    // branch around the division. Where they differ, maxc ≥ chroma > 0 is far above that (values come from
    // bytes / 255 and the jitter's products).
    const float s = chroma / maxOf(maxc, std::numeric_limits<float>::min());
    const float inverse = 1.f / maxOf(chroma, std::numeric_limits<float>::min());
    const float rc = (maxc - r) * inverse;
    const float gc = (maxc - g) * inverse;
    const float bc = (maxc - b) * inverse;
    const bool isR = maxc == r;
    const bool isG = (maxc == g) & !isR;  // & rather than &&: no branch, so the loop vectorises
    const float numerator = isR ? (bc - gc) : (isG ? (rc - bc + 2.f) : (gc - rc + 4.f));
    const float shifted = numerator / 6.f + offset;
    const float hue = shifted - floorSmall(shifted);
    const float v = maxc;
    const float h6 = hue * 6.f;
    const float sector = floorSmall(h6);
    const float f = h6 - sector;
    const float wrapped = sector - 6.f * floorSmall(sector / 6.f);
    const float q = clamp01(v * (1.f - s * f));
    const float p = clamp01(v * (1.f - s));
    const float t = clamp01(v * (1.f - s * (1.f - f)));
    // Sector → (r, g, b): 0 (v, t, p), 1 (q, v, p), 2 (p, v, t), 3 (p, q, v), 4 (t, p, v), 5 (v, p, q).
    // As sums of the candidates times 0/1 masks: exact (one term is non-zero, all are ≥ 0), and stores the
    // compiler cannot turn into conditional ones (which would stop the vectoriser).
    const float s0 = wrapped == 0.f, s1 = wrapped == 1.f, s2 = wrapped == 2.f, s3 = wrapped == 3.f, s4 = wrapped == 4.f, s5 = wrapped == 5.f;
    rp[i] = (s0 + s5) * v + s1 * q + (s2 + s3) * p + s4 * t;
    gp[i] = s0 * t + (s1 + s2) * v + s3 * q + (s4 + s5) * p;
    bp[i] = (s0 + s1) * p + s2 * t + (s3 + s4) * v + s5 * q;
  }
}

void unpackTile(const uint8_t* __restrict src, float* __restrict r, float* __restrict g, float* __restrict b, int64_t len, const float* __restrict unit) {
  for (int64_t i = 0; i < len; i++) {
    r[i] = unit[src[3 * i]];
    g[i] = unit[src[3 * i + 1]];
    b[i] = unit[src[3 * i + 2]];
  }
}

void normaliseTile(float* __restrict r, float* __restrict g, float* __restrict b, int64_t len, const float* mean, const float* std) {
  const float mr = mean[0], mg = mean[1], mb = mean[2], sr = std[0], sg = std[1], sb = std[2];
  for (int64_t i = 0; i < len; i++) {
    r[i] = (r[i] - mr) / sr;
    g[i] = (g[i] - mg) / sg;
    b[i] = (b[i] - mb) / sb;
  }
}

// Adds the tile's luma to `sum` in double in pixel order, as colorJitter's contrast sums it (not reassociated).
double lumaSum(const float* r, const float* g, const float* b, int64_t len, double sum) {
  for (int64_t i = 0; i < len; i++) sum += luma(r[i], g[i], b[i]);
  return sum;
}

struct ClipJitter {
  float brightness = 1.f, contrast = 1.f, saturation = 1.f, hueOffset = 1.f;
};

void pixelOpsTile(const std::string& ops, const ClipJitter& j, float* r, float* g, float* b, int64_t len) {
  for (const char op : ops) {
    if (op == 'b') brightnessTile(r, g, b, len, j.brightness);
    else if (op == 's') saturationTile(r, g, b, len, j.saturation);
    else hueTile(r, g, b, len, j.hueOffset);  // 'h' (the caller validated the letters)
  }
}

// Decoded clips to the video network's input: (B, T, H, W, 3) uint8 RGB → (B, 3, T, H, W) float32 =
// normalise(jitter(pixels / 255)). Replaces clipsToUnitTensor (permute, to float, /255), applyColorJitter
// (one pass per op) and normalizeVideo (two more passes) with the same float32 arithmetic in the same order.
// Contrast blends towards the mean luma of the whole clip as it stands when contrast comes, so a clip's ops are
// cut into segments at 'c': each segment is one pass over the clip (tile by tile) that also sums the luma for
// the next segment's contrast; the last pass normalises and leaves the final values. `orders` holds one order
// per clip, separated by ','.
at::Tensor videoClipsToInput(const at::Tensor& pixels, const at::Tensor& params, const std::string& orders, const c10::optional<at::Tensor>& meanStd) {
  TORCH_CHECK(pixels.scalar_type() == at::kByte && pixels.dim() == 5 && pixels.size(4) == 3,
              "videoClipsToInput: expected (B, T, H, W, 3) uint8 pixels, got ", pixels.scalar_type(), " of shape ", pixels.sizes());
  const int64_t clips = pixels.size(0);
  TORCH_CHECK(params.dim() == 2 && params.size(0) == clips && params.size(1) == 4,
              "videoClipsToInput: expected (B, 4) jitter parameters (brightness, contrast, saturation, hue) for ", clips, " clips, got shape ", params.sizes());
  std::vector<std::string> order(1);
  for (const char ch : orders) {
    if (ch == ',') order.emplace_back();
    else if (ch == 'b' || ch == 'c' || ch == 's' || ch == 'h') order.back().push_back(ch);
    else TORCH_CHECK(false, "videoClipsToInput: unknown op '", std::string(1, ch), "' in '", orders, "' (expected letters of 'bcsh', one order per clip separated by ',')");
  }
  TORCH_CHECK(static_cast<int64_t>(order.size()) == clips, "videoClipsToInput: ", order.size(), " jitter orders for ", clips, " clips");
  float mean[3] = {0.f, 0.f, 0.f}, std[3] = {1.f, 1.f, 1.f};
  const bool normalise = meanStd.has_value() && meanStd->defined();
  if (normalise) {
    TORCH_CHECK(meanStd->numel() == 6, "videoClipsToInput: expected 6 normalisation values (3 means, 3 stds), got ", meanStd->numel());
    const at::Tensor ms = meanStd->to(at::kCPU, at::kFloat).contiguous();
    for (int c = 0; c < 3; c++) {
      mean[c] = ms.data_ptr<float>()[c];
      std[c] = ms.data_ptr<float>()[3 + c];
    }
  }
  const at::Tensor source = pixels.to(at::kCPU).contiguous();
  const at::Tensor p = params.to(at::kCPU, at::kDouble).contiguous();
  const int64_t n = pixels.size(1) * pixels.size(2) * pixels.size(3);  // pixels per clip
  at::Tensor out = at::empty({clips, 3, pixels.size(1), pixels.size(2), pixels.size(3)}, at::TensorOptions().dtype(at::kFloat));
  float unit[256];  // u8 → [0, 1] exactly as to(float).div(255) rounds it
  for (int v = 0; v < 256; v++) unit[v] = static_cast<float>(v) / 255.f;

  for (int64_t clip = 0; clip < clips; clip++) {
    const double* q = p.data_ptr<double>() + clip * 4;
    ClipJitter j;
    j.brightness = static_cast<float>(q[0]);
    j.contrast = static_cast<float>(q[1]);
    j.saturation = static_cast<float>(q[2]);
    j.hueOffset = static_cast<float>(1.0 + q[3]);
    // Segments: the ops before the first contrast, then each contrast with the per-pixel ops after it.
    std::vector<std::string> segments(1);
    for (const char op : order[clip]) {
      if (op == 'c') segments.emplace_back();
      else segments.back().push_back(op);
    }
    const uint8_t* src = source.data_ptr<uint8_t>() + clip * n * 3;
    float* r = out.data_ptr<float>() + clip * n * 3;
    float* g = r + n;
    float* b = g + n;
    float contrastMean = 0.f;
    for (size_t s = 0; s < segments.size(); s++) {
      const bool last = s + 1 == segments.size();
      double sum = 0;
      for (int64_t start = 0; start < n; start += kTile) {
        const int64_t len = std::min(kTile, n - start);
        float* tr = r + start;
        float* tg = g + start;
        float* tb = b + start;
        if (s == 0) unpackTile(src + 3 * start, tr, tg, tb, len, unit);
        else blendTile(tr, tg, tb, len, contrastMean, j.contrast);
        pixelOpsTile(segments[s], j, tr, tg, tb, len);
        if (!last) sum = lumaSum(tr, tg, tb, len, sum);
        else if (normalise) normaliseTile(tr, tg, tb, len, mean, std);
      }
      if (!last) contrastMean = n > 0 ? static_cast<float>(sum / static_cast<double>(n)) : 0.f;
    }
  }
  return out;
}

}  // namespace

void registerImage(Napi::Env env, Napi::Object exports) {
  def(env, exports, "colorJitter", [](Args& a) { return a.ret(colorJitter(a.tensor(0), a.f64(1), a.f64(2), a.f64(3), a.f64(4), a.str(5))); });
  def(env, exports, "videoClipsToInput", [](Args& a) { return a.ret(videoClipsToInput(a.tensor(0), a.tensor(1), a.str(2), a.optTensor(3))); });
}

}  // namespace avid
