// The device allocator's memory figures (what torch.cuda.max_memory_allocated reads in Python),
// which tch does not expose. Uses libtorch's device-generic accelerator API, so it needs no CUDA
// headers at build time and works with any libtorch 2.11 at run time; every C++ exception stays
// here and becomes a non-zero return.
#include <ATen/DeviceAccelerator.h>
#include <cstdint>

extern "C" {

// out: [allocated now, allocated peak, reserved now, reserved peak] in bytes, since the last reset.
int rlxf_device_memory_stats(int device_index, int64_t* out) {
  try {
    const auto stats = at::accelerator::getDeviceStats(static_cast<c10::DeviceIndex>(device_index));
    const auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    out[0] = stats.allocated_bytes[all].current;
    out[1] = stats.allocated_bytes[all].peak;
    out[2] = stats.reserved_bytes[all].current;
    out[3] = stats.reserved_bytes[all].peak;
    return 0;
  } catch (...) {
    return 1;
  }
}

int rlxf_device_memory_reset_peak(int device_index) {
  try {
    at::accelerator::resetPeakStats(static_cast<c10::DeviceIndex>(device_index));
    return 0;
  } catch (...) {
    return 1;
  }
}

}
