// Devices and mixed precision: what this build can run on, moving a tensor's data to another device in place
// (as PyTorch's `param.data = param.data.to(device)`, so modules and optimizers keep their handles),
// autocast regions, and the gradient unscale-and-check of dynamic loss scaling.
//
// Everything here compiles against a CPU-only libtorch; the CUDA-only parts are behind AVID_WITH_CUDA
// (binding.gyp defines it when LIBTORCH points at a libtorch with libtorch_cuda.so).
#include "common.h"

#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>
#include <map>

#ifdef AVID_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace avid {

namespace {

bool isCudaDeviceType(const std::string& type) {
  if (type == "cuda") return true;
  if (type == "cpu") return false;
  throw std::invalid_argument("unknown autocast device type '" + type + "' (allowed: cpu, cuda)");
}

// The shared library that defines libtorch's CPU code: names the libtorch this addon was linked against.
std::string libtorchPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&at::autocast::is_enabled), &info) && info.dli_fname) return info.dli_fname;
  return "unknown";
}

}  // namespace

void registerDevice(Napi::Env env, Napi::Object exports) {
  // What this build can run on: { cudaBuild, cudaAvailable, cudaDevices, libtorch }.
  def(env, exports, "deviceInfo", [](Args& a) -> Napi::Value {
    auto out = Napi::Object::New(a.env);
#ifdef AVID_WITH_CUDA
    out.Set("cudaBuild", true);
#else
    out.Set("cudaBuild", false);
#endif
    out.Set("cudaAvailable", at::hasCUDA());
    out.Set("cudaDevices", at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0);
    out.Set("libtorch", libtorchPath());
    return out;
  });
  // Waits for the device's queued work (timings); a no-op without CUDA.
  def(env, exports, "deviceSynchronize", [](Args& a) {
#ifdef AVID_WITH_CUDA
    if (at::hasCUDA()) c10::cuda::device_synchronize();
#endif
    return a.undefined();
  });
  // (index): makes cuda:index this thread's current device, so that work placed on plain 'cuda' and NCCL's
  // communicators use this process's GPU; a no-op without CUDA.
  def(env, exports, "deviceSetCurrent", [](Args& a) {
#ifdef AVID_WITH_CUDA
    if (at::hasCUDA()) c10::cuda::set_device(static_cast<c10::DeviceIndex>(a.i64(0)));
#endif
    return a.undefined();
  });
  // (target, source): target's data becomes source's (any device or dtype); target keeps its identity,
  // requires_grad and autograd metadata.
  def(env, exports, "setData", [](Args& a) {
    at::Tensor& target = a.tensor(0);
    target.set_data(a.tensor(1));
    return a.undefined();
  });
  def(env, exports, "isPinned", [](Args& a) { return a.boolean(a.tensor(0).is_pinned()); });
  // (deviceType, dtype) -> [wasEnabled, previousDtype]: enters an autocast region (nesting counted, as
  // torch.autocast's __enter__).
  def(env, exports, "autocastEnter", [](Args& a) -> Napi::Value {
    bool cuda = isCudaDeviceType(a.str(0));
    at::ScalarType dtype = parseDtype(a.str(1));
    bool was = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    at::ScalarType previous = cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
    if (cuda) {
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(true);
    } else {
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
    auto out = Napi::Array::New(a.env, 2);
    out.Set(0u, Napi::Boolean::New(a.env, was));
    out.Set(1u, Napi::String::New(a.env, dtypeName(previous)));
    return out;
  });
  // (deviceType, wasEnabled, previousDtype): leaves the region; the cast cache is cleared when the outermost
  // region ends (torch.autocast's __exit__).
  def(env, exports, "autocastExit", [](Args& a) {
    bool cuda = isCudaDeviceType(a.str(0));
    bool was = a.flag(1);
    at::ScalarType previous = parseDtype(a.str(2));
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda) {
      at::autocast::set_enabled(was);
      at::autocast::set_autocast_gpu_dtype(previous);
    } else {
      at::autocast::set_cpu_enabled(was);
      at::autocast::set_autocast_cpu_dtype(previous);
    }
    return a.undefined();
  });
  def(env, exports, "autocastIsEnabled", [](Args& a) {
    return a.boolean(isCudaDeviceType(a.str(0)) ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled());
  });
  // (params, invScale) -> foundNonFinite: multiplies every defined gradient by invScale and reports whether
  // any gradient holds inf or NaN (GradScaler.unscale_). CUDA gradients use the fused kernel, one launch per
  // device; others (CPU: libtorch 1.13 has no CPU kernel for it) are checked and scaled op by op.
  def(env, exports, "ampUnscaleGrads", [](Args& a) {
    at::NoGradGuard noGrad;
    auto params = a.tensors(0);
    double invScale = a.f64(1);
    bool found = false;
    std::map<int, std::vector<at::Tensor>> cudaGrads;
    for (auto& p : params) {
      const at::Tensor& g = p.grad();
      if (!g.defined()) continue;
      if (g.is_cuda() && !g.is_sparse()) {
        cudaGrads[g.get_device()].push_back(g);
        continue;
      }
      // Checked before scaling, as the fused kernel does.
      if (!found && !at::isfinite(g).all().item<bool>()) found = true;
      g.mul_(invScale);
    }
    for (auto& [device, grads] : cudaGrads) {
      auto options = at::TensorOptions().dtype(at::kFloat).device(at::Device(at::kCUDA, device));
      at::Tensor foundInf = at::zeros({1}, options);
      at::Tensor inv = at::full({1}, invScale, options);
      at::_amp_foreach_non_finite_check_and_unscale_(grads, foundInf, inv);
      if (foundInf.item<float>() != 0) found = true;
    }
    return a.boolean(found);
  });
}

}  // namespace avid
