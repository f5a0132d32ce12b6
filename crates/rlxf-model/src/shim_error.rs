//! The buffer a C++ shim writes an exception's message into (`cpp/shim_error.h`).

use std::os::raw::c_char;

/// A zeroed message buffer: pass [`ShimError::as_mut_ptr`] and [`ShimError::len`] to a shim, read
/// [`ShimError::first_line`] when it reports failure.
pub(crate) struct ShimError(Vec<c_char>);

impl ShimError {
    pub(crate) fn new() -> Self {
        Self(vec![0; 512])
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The message's first line (libtorch appends a C++ backtrace below it); empty if none was written.
    pub(crate) fn first_line(&self) -> String {
        // SAFETY: the buffer starts zeroed and the shim NUL-terminates what it writes inside it.
        let message = unsafe { std::ffi::CStr::from_ptr(self.0.as_ptr()) };
        message.to_string_lossy().lines().next().unwrap_or("").to_string()
    }

    /// The first line of what the shim reported, or `fallback` when it wrote nothing.
    pub(crate) fn message_or(&self, fallback: &str) -> String {
        let message = self.first_line();
        if message.is_empty() { fallback.into() } else { message }
    }
}
