// Stochastic rounding of f32 values onto the bf16 grid, written back as f32: a value between two bf16
// neighbours goes to the upper one (in magnitude) with probability equal to its distance from the lower
// one in units of their gap, so the rounded copy is right on average. On f32 bits that is: add a
// uniform 16-bit integer to the bit pattern, clear the low 16 bits.
//
// CPU: a counter-based hash (splitmix64 of seed and element group), parallel and independent of the
// thread count. Other devices: the device's own generator, cloned and re-seeded, through at::randint.
// Every C++ exception stays here and its message goes back through `error`.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <cstdint>
#include <mutex>

#include "shim_error.h"

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint32_t round_bits(uint32_t bits, uint32_t noise) {
  // Inf and NaN (exponent all ones) keep their class: a NaN's payload may sit in the low bits only.
  if ((bits & 0x7F800000u) == 0x7F800000u) {
    return (bits & 0xFFFF0000u) | ((bits & 0xFFFFu) != 0 ? 0x00010000u : 0u);
  }
  // Sign and magnitude: adding to the pattern rounds the magnitude up; a carry into the exponent is
  // the next binade's first value, as it should be.
  return (bits + noise) & 0xFFFF0000u;
}

void round_with_hash(const at::Tensor& source, const at::Tensor& destination, uint64_t seed) {
  const auto* src = reinterpret_cast<const uint32_t*>(source.const_data_ptr<float>());
  auto* dst = reinterpret_cast<uint32_t*>(destination.mutable_data_ptr<float>());
  const int64_t n = source.numel();
  const int64_t groups = (n + 3) / 4;  // one 64-bit draw gives four 16-bit noises
  at::parallel_for(0, groups, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const uint64_t draw = mix(seed + static_cast<uint64_t>(g + 1) * kGolden);
      const int64_t first = 4 * g;
      const int64_t last = std::min<int64_t>(first + 4, n);
      for (int64_t i = first; i < last; ++i) {
        const auto noise = static_cast<uint32_t>((draw >> (16 * (i - first))) & 0xFFFFu);
        dst[i] = round_bits(src[i], noise);
      }
    }
  });
}

void round_with_generator(const at::Tensor& source, const at::Tensor& destination, uint64_t seed) {
  auto generator = at::globalContext().defaultGenerator(source.device()).clone();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(seed);
  }
  const auto noise = at::randint(0, 1 << 16, source.sizes(), generator, source.options().dtype(at::kInt));
  // Two's-complement addition on the pattern is the unsigned one; -65536 is 0xFFFF0000.
  destination.view(at::kInt).copy_(at::bitwise_and(source.view(at::kInt) + noise, -65536));
}

}  // namespace

// method 0: the CPU hash; 1: the device generator (the path other devices take; callable on the CPU
// so its arithmetic is tested there).
extern "C" int rlxf_round_to_bf16_stochastic(const at::Tensor* source, const at::Tensor* destination,
                                             uint64_t seed, int method, char* error,
                                             size_t error_len) {
  try {
    c10::NoGradGuard no_grad;
    TORCH_CHECK(source->scalar_type() == at::kFloat && destination->scalar_type() == at::kFloat,
                "stochastic rounding takes f32 tensors, got ", source->scalar_type(), " and ",
                destination->scalar_type());
    TORCH_CHECK(source->sizes() == destination->sizes(), "stochastic rounding: source shape ",
                source->sizes(), " differs from destination shape ", destination->sizes());
    TORCH_CHECK(source->device() == destination->device(), "stochastic rounding: source on ",
                source->device(), ", destination on ", destination->device());
    TORCH_CHECK(source->is_contiguous() && destination->is_contiguous(),
                "stochastic rounding needs contiguous tensors");
    if (method == 0) {
      TORCH_CHECK(source->device().is_cpu(), "the hash path of stochastic rounding runs on the CPU");
      round_with_hash(*source, *destination, seed);
    } else {
      round_with_generator(*source, *destination, seed);
    }
    return 0;
  } catch (const std::exception& e) {
    rlxf_write_error(e, error, error_len);
    return 1;
  }
}
