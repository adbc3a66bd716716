// Stand-in for a libtorch header that Debian's libtorch-dev omits (distributed autograd, for RPC) but that
// c10d/reducer.hpp includes. The Reducer only names these two types, in a static_assert and as a
// std::shared_ptr member; a shared_ptr's layout does not depend on its element type, so the class layout
// matches libtorch's. binding.gyp puts this directory on the include path only when the real header is
// absent (a full libtorch archive ships it).
#pragma once
#include <ATen/ATen.h>
#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
