//! The atomics and cells of ntwork's concurrency protocols (reusable items'
//! state and slots, the drain): core's, or loom's when the protocols are
//! model-checked (`--cfg loom`, see `tests/loom`). One import site, so the
//! model checks the production code itself.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};

/// A cell written under a protocol's claim. Accessed only through
/// [`with_mut`](UnsafeCell::with_mut), so under `--cfg loom` (loom's cell, same
/// method) loom checks that the claim orders every access.
#[cfg(not(loom))]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the contents; the caller's protocol makes
    /// the access exclusive.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
