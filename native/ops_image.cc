// Image operations that are one pass per pixel but dozens of tensor ops when written with ATen's element-wise
// ops: fused here so that the loader's augmentations cost what the arithmetic costs. Same formulas, in the
// same float32 order, as the element-wise versions they replace (torchvision's rgb↔hsv).
#include <cmath>

#include "common.h"

namespace avid {

namespace {

// Python-style remainder (sign of the divisor), as at::remainder computes it for floats.
inline float remainderOf(float a, float b) { return a - b * std::floor(a / b); }

inline float clamp01(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }

// Hue rotation by `shift` turns of a (3, ...) float32 RGB tensor in [0, 1] (torchvision's adjust_hue).
at::Tensor adjustHue(const at::Tensor& input, double shift) {
  TORCH_CHECK(input.dim() >= 1 && input.size(0) == 3, "adjustHue: expected a (3, ...) RGB tensor, got shape ", input.sizes());
  const at::Tensor x = input.to(at::kCPU, at::kFloat).contiguous();
  at::Tensor out = at::empty_like(x);
  const int64_t n = x.numel() / 3;
  const float* r = x.data_ptr<float>();
  const float* g = r + n;
  const float* b = g + n;
  float* outR = out.data_ptr<float>();
  float* outG = outR + n;
  float* outB = outG + n;
  const float offset = static_cast<float>(1.0 + shift);
  for (int64_t i = 0; i < n; i++) {
    const float maxc = std::max(r[i], std::max(g[i], b[i]));
    const float minc = std::min(r[i], std::min(g[i], b[i]));
    const bool equal = maxc == minc;
    const float chroma = maxc - minc;
    const float s = chroma / (equal ? 1.f : maxc);
    const float divisor = equal ? 1.f : chroma;
    const float rc = (maxc - r[i]) / divisor;
    const float gc = (maxc - g[i]) / divisor;
    const float bc = (maxc - b[i]) / divisor;
    const bool isR = maxc == r[i];
    const bool isG = maxc == g[i] && !isR;
    const bool isB = !isR && !isG;
    const float hr = isR ? (bc - gc) : 0.f;
    const float hg = isG ? (rc - bc + 2.f) : 0.f;
    const float hb = isB ? (gc - rc + 4.f) : 0.f;
    const float hue = remainderOf((hr + hg + hb) / 6.f + offset, 1.f);
    const float v = maxc;
    const float h6 = hue * 6.f;
    const float sector = std::floor(h6);
    const float f = h6 - sector;
    const int sectorIndex = static_cast<int>(remainderOf(sector, 6.f));
    const float p = clamp01(v * (1.f - s));
    const float q = clamp01(v * (1.f - s * f));
    const float t = clamp01(v * (1.f - s * (1.f - f)));
    float red = 0.f, green = 0.f, blue = 0.f;
    switch (sectorIndex) {
      case 0: red = v; green = t; blue = p; break;
      case 1: red = q; green = v; blue = p; break;
      case 2: red = p; green = v; blue = t; break;
      case 3: red = p; green = q; blue = v; break;
      case 4: red = t; green = p; blue = v; break;
      case 5: red = v; green = p; blue = q; break;
      default: break;  // NaN input: zeros, as the masked sum gives
    }
    outR[i] = red;
    outG[i] = green;
    outB[i] = blue;
  }
  return out.to(input.options());
}

}  // namespace

void registerImage(Napi::Env env, Napi::Object exports) {
  def(env, exports, "adjustHue", [](Args& a) { return a.ret(adjustHue(a.tensor(0), a.f64(1))); });
}

}  // namespace avid
