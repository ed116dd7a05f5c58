//! The host executive (placeholder until the executive lands).
#![allow(missing_docs, unreachable_pub)]
use core::alloc::Layout;

pub(crate) fn pool_allocate(layout: Layout) -> *mut u8 {
    // SAFETY: callers never pass a zero-sized layout.
    unsafe { std::alloc::alloc(layout) }
}

/// # Safety
/// `ptr` came from [`pool_allocate`] with `layout`.
pub(crate) unsafe fn pool_free(ptr: *mut u8, layout: Layout) {
    // SAFETY: forwarded from the caller.
    unsafe { std::alloc::dealloc(ptr, layout) }
}

pub(crate) fn routine_panicked(_routine: usize, _parameter: usize) {}
