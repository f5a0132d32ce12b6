// bf16 autocast (torch.autocast(device_type, dtype=torch.bfloat16)) for the CPU and CUDA, which tch
// does not expose: its autocast toggles only CUDA, whose default autocast dtype is float16. Enter
// and exit mirror torch.autocast's __enter__/__exit__, nesting included: the casts of parameters
// are cached until the outermost region ends. Every C++ exception stays here.
#include <ATen/autocast_mode.h>

namespace {
at::DeviceType device_type(int code) { return code == 1 ? at::kCUDA : at::kCPU; }
}  // namespace

extern "C" {

// previous: [was enabled, previous dtype] for the matching exit.
int rlxf_autocast_enter(int device_code, int* previous) {
  try {
    const auto type = device_type(device_code);
    previous[0] = at::autocast::is_autocast_enabled(type) ? 1 : 0;
    previous[1] = static_cast<int>(at::autocast::get_autocast_dtype(type));
    at::autocast::set_autocast_dtype(type, at::kBFloat16);
    at::autocast::set_autocast_enabled(type, true);
    at::autocast::increment_nesting();
    return 0;
  } catch (...) {
    return 1;
  }
}

int rlxf_autocast_exit(int device_code, const int* previous) {
  try {
    const auto type = device_type(device_code);
    if (at::autocast::decrement_nesting() == 0) {
      at::autocast::clear_cache();
    }
    at::autocast::set_autocast_enabled(type, previous[0] != 0);
    at::autocast::set_autocast_dtype(type, static_cast<at::ScalarType>(previous[1]));
    return 0;
  } catch (...) {
    return 1;
  }
}

// What autocast hands a bf16 operation for `tensor` on the CPU: an f32 parameter's bf16 copy from the
// region's cache (made on first use, shared with libtorch's own operations in the region), a bf16
// tensor itself. A new handle the caller owns; null on error.
at::Tensor* rlxf_autocast_cpu_bf16(const at::Tensor* tensor) {
  try {
    return new at::Tensor(at::autocast::cached_cast(at::kBFloat16, *tensor, at::kCPU));
  } catch (...) {
    return nullptr;
  }
}

// 1 when autocast is on for the device type, 0 when off, -1 on error.
int rlxf_autocast_is_enabled(int device_code) {
  try {
    return at::autocast::is_autocast_enabled(device_type(device_code)) ? 1 : 0;
  } catch (...) {
    return -1;
  }
}
}
