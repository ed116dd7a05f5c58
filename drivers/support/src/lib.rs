//! What a `no_std` driver built on Rust's precompiled `core` must define
//! itself, and nothing of ntwork: ntwork allocates its own blocks from pool
//! and needs none of this. In a windows-drivers-rs driver, wdk-panic,
//! wdk-alloc and wdk-sys provide these; see `drivers/README.md`.

#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use ntwork::ffi;

/// The kernel has no unwinding: a panic stops here (wdk-panic does the
/// same with a `loop {}`; a driver may bug-check instead).
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// MSVC targets reference `_fltused` from any object that uses floating
/// point (the precompiled `core` does); the CRT that defines it is not
/// linked (`/NODEFAULTLIB`). Its value is never read.
#[unsafe(no_mangle)]
pub static _fltused: i32 = 0;

/// The personality routine the precompiled `core` (built with
/// `panic = "unwind"`) names in its unwind tables. With `panic = "abort"`
/// nothing unwinds, so it is never called. `__cdecl` in the CRT (so
/// `___CxxFrameHandler3` on x86, where wdk-sys's `"system"` one would not
/// match; wdk-sys builds for x86_64 and aarch64 only).
#[unsafe(no_mangle)]
pub extern "C" fn __CxxFrameHandler3() -> i32 {
    0
}

/// Pool tag of the driver's own `alloc` allocations (`Arc`), shown by
/// `!poolused` as `drvA`.
const TAG: u32 = u32::from_le_bytes(*b"drvA");

/// The global allocator (what wdk-alloc's `WdkAllocator` is): nonpaged pool.
/// ntwork's `alloc` feature (its `Arc` APIs) and the driver's own `Arc`s use
/// it; ntwork's blocks come from pool directly.
pub struct PoolAllocator;

/// Pool's alignment (`MEMORY_ALLOCATION_ALIGNMENT`): 16 bytes on 64-bit, 8 on x86.
const POOL_ALIGNMENT: usize = if cfg!(target_pointer_width = "64") {
    16
} else {
    8
};

// SAFETY: `alloc` returns a block of at least `layout.size()` bytes aligned
// to `layout.align()` (pool's alignment; larger alignments get NULL), or
// NULL; `dealloc` frees only blocks `alloc` returned.
unsafe impl GlobalAlloc for PoolAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > POOL_ALIGNMENT {
            return core::ptr::null_mut();
        }
        // SAFETY: a nonzero tag and a nonpaged allocation, at IRQL <=
        // DISPATCH_LEVEL (the caller's, as for any pool allocation).
        unsafe { ffi::ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, layout.size(), TAG).cast() }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _: Layout) {
        // SAFETY: `ptr` came from `alloc` above, with the same tag.
        unsafe { ffi::ExFreePoolWithTag(ptr.cast::<c_void>(), TAG) }
    }
}
