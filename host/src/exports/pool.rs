//! `ExAllocatePool2` and `ExFreePoolWithTag`.

#![allow(non_snake_case)]

use core::alloc::Layout;
use core::ffi::c_void;

use ntwork_sys::{POOL_FLAG_NON_PAGED, POOL_FLAGS, SIZE_T, ULONG};

use super::guarded;
use crate::binding::current;
use crate::version::WindowsVersion;

/// `ExAllocatePool2`: tracked nonpaged pool, zeroed, 16-byte aligned; `NULL`
/// for a zero size or flags without `POOL_FLAG_NON_PAGED` (the host models
/// nonpaged pool only).
///
/// # Safety
///
/// None.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExAllocatePool2(
    Flags: POOL_FLAGS,
    NumberOfBytes: SIZE_T,
    Tag: ULONG,
) -> *mut c_void {
    let export = ExAllocatePool2 as *const () as usize;
    guarded(core::ptr::null_mut(), || {
        let inner = current();
        // ExAllocatePool2 is exported from Windows 10 2004 on.
        if crate::checks::not_in_target(
            &inner,
            &mut inner.lock(),
            WindowsVersion::Windows10,
            export,
        ) {
            return core::ptr::null_mut();
        }
        if Flags & POOL_FLAG_NON_PAGED == 0 {
            return core::ptr::null_mut();
        }
        let Ok(layout) = Layout::from_size_align(NumberOfBytes.max(1), 16) else {
            return core::ptr::null_mut();
        };
        let _ = Tag;
        let block = if NumberOfBytes == 0 {
            crate::pool::allocate(Layout::new::<()>())
        } else {
            crate::pool::allocate(layout)
        };
        if !block.is_null() {
            // SAFETY: a fresh block of `layout.size()` bytes.
            unsafe { block.write_bytes(0, layout.size()) };
        }
        block.cast()
    })
}

/// `ExFreePoolWithTag`.
///
/// # Safety
///
/// `P` is not used after it is freed.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExFreePoolWithTag(P: *mut c_void, Tag: ULONG) {
    let _ = Tag;
    // SAFETY: forwarded; the pool ignores the layout of a tracked block.
    guarded((), || unsafe {
        crate::pool::free(P.cast(), Layout::new::<u8>())
    });
}
