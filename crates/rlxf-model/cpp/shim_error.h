// How the C++ shims hand an exception's message back to Rust: copied, truncated and NUL-terminated,
// into the caller's buffer (`rlxf_model::shim_error::ShimError` on the Rust side).
#pragma once
#include <cstddef>
#include <cstring>
#include <exception>

inline void rlxf_write_error(const std::exception& e, char* error, size_t error_len) {
  if (error_len > 0) {
    std::strncpy(error, e.what(), error_len - 1);
    error[error_len - 1] = '\0';
  }
}
