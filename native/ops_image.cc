// Image operations that are one pass per pixel but dozens of tensor ops when written with ATen's element-wise
// ops: fused here so that the loader's augmentations cost what the arithmetic costs. Same formulas, in the
// same float32 order, as the element-wise versions they replace (torchvision's rgb↔hsv).
#include <cmath>

#include "common.h"

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

}  // namespace

void registerImage(Napi::Env env, Napi::Object exports) {
  def(env, exports, "colorJitter", [](Args& a) { return a.ret(colorJitter(a.tensor(0), a.f64(1), a.f64(2), a.f64(3), a.f64(4), a.str(5))); });
}

}  // namespace avid
