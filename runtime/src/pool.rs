//! Nonpaged pool for work items: the driver's global allocator in a driver, the
//! executive's tracked (and fault-injectable) pool on the host.

use core::alloc::Layout;
use core::ptr::NonNull;

/// Allocates `layout`, or `None` when the pool is exhausted.
pub(crate) fn allocate(layout: Layout) -> Option<NonNull<u8>> {
    if layout.size() == 0 {
        return Some(dangling(layout));
    }
    #[cfg(feature = "host")]
    let ptr = crate::host::pool_allocate(layout);
    // SAFETY: the layout is not zero-sized.
    #[cfg(not(feature = "host"))]
    let ptr = unsafe { alloc::alloc::alloc(layout) };
    NonNull::new(ptr)
}

/// Frees what [`allocate`] returned.
///
/// # Safety
///
/// `ptr` came from [`allocate`] with this `layout` and is not used again.
pub(crate) unsafe fn free(ptr: NonNull<u8>, layout: Layout) {
    if layout.size() == 0 {
        return;
    }
    // SAFETY: forwarded from the caller.
    #[cfg(feature = "host")]
    unsafe {
        crate::host::pool_free(ptr.as_ptr(), layout)
    };
    // SAFETY: forwarded from the caller.
    #[cfg(not(feature = "host"))]
    unsafe {
        alloc::alloc::dealloc(ptr.as_ptr(), layout)
    };
}

/// A pool allocation holding one `T`.
pub(crate) fn allocate_for<T>() -> Option<NonNull<T>> {
    allocate(Layout::new::<T>()).map(NonNull::cast)
}

/// Frees what [`allocate_for`] returned, without dropping a `T`.
///
/// # Safety
///
/// As for [`free`], with `Layout::new::<T>()`.
pub(crate) unsafe fn free_for<T>(ptr: NonNull<T>) {
    // SAFETY: forwarded from the caller.
    unsafe { free(ptr.cast(), Layout::new::<T>()) }
}

fn dangling(layout: Layout) -> NonNull<u8> {
    // A well-aligned, never dereferenced address, as `NonNull::dangling` gives.
    NonNull::new(core::ptr::without_provenance_mut(layout.align())).unwrap_or(NonNull::dangling())
}
