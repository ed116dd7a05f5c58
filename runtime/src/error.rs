//! Errors of the safe API. Each one hands back what the failed call was given.

use core::fmt;

/// A pool allocation for a work item failed (low resources).
///
/// Holds what the call was given (the context, or `()`), so nothing is lost:
/// take it back with [`AllocError::into_inner`].
pub struct AllocError<T = ()>(pub(crate) T);

impl<T> AllocError<T> {
    /// What the failed call was given.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for AllocError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllocError")
    }
}

impl<T> fmt::Display for AllocError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("out of nonpaged pool for a work item")
    }
}

impl<T> core::error::Error for AllocError<T> {}

/// A reusable item was queued while still pending (the kernel's bug check `0xE4`,
/// subcode 1, made an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyQueued;

impl fmt::Display for AlreadyQueued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the work item is already queued")
    }
}

impl core::error::Error for AlreadyQueued {}
