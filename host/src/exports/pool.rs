//! `ExAllocatePool2` and `ExFreePoolWithTag`.

#![allow(non_snake_case)]

use core::alloc::Layout;
use core::ffi::c_void;

use ntwork_sys::{POOL_FLAG_NON_PAGED, POOL_FLAGS, SIZE_T, STATUS_INSUFFICIENT_RESOURCES, ULONG};

use super::guarded;
use crate::binding::current;
use crate::bugcheck::{BugCheck, HOST_EXCEPTION_RAISED};
use crate::pool::{
    self, POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED, POOL_FLAG_RAISE_ON_FAILURE,
    POOL_FLAG_UNINITIALIZED, PoolKind,
};
use crate::version::WindowsVersion;

/// `ExAllocatePool2`, as Windows 10 2004 and later: the pool from the
/// flags (exactly one of `POOL_FLAG_NON_PAGED`, `_NON_PAGED_EXECUTE`,
/// `_PAGED`; paged pool at IRQL <= APC_LEVEL), zeroed unless
/// `POOL_FLAG_UNINITIALIZED` (then filled with a pattern), 16-byte aligned.
/// A `Tag` of 0, invalid flags or a failure return NULL, or with
/// `POOL_FLAG_RAISE_ON_FAILURE` raise `STATUS_INSUFFICIENT_RESOURCES` (the
/// host diagnostic `HOST_EXCEPTION_RAISED`).
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
        let block = allocate(Flags, NumberOfBytes, Tag, export);
        if block.is_null() && Flags & POOL_FLAG_RAISE_ON_FAILURE != 0 {
            let status = STATUS_INSUFFICIENT_RESOURCES as u32 as usize;
            inner.raise(BugCheck::new(HOST_EXCEPTION_RAISED, [status, export, 0, 0]));
        }
        block.cast()
    })
}

/// The allocation of [`ExAllocatePool2`], NULL on any failure.
fn allocate(flags: POOL_FLAGS, size: SIZE_T, tag: ULONG, export: usize) -> *mut u8 {
    let kind = match flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED) {
        POOL_FLAG_NON_PAGED => PoolKind::NonPaged,
        POOL_FLAG_NON_PAGED_EXECUTE => PoolKind::NonPagedExecute,
        POOL_FLAG_PAGED => PoolKind::Paged,
        _ => return core::ptr::null_mut(),
    };
    if tag == 0 {
        return core::ptr::null_mut();
    }
    let Ok(layout) = Layout::from_size_align(size, 16) else {
        return core::ptr::null_mut();
    };
    let block = pool::allocate_in(layout, kind, export);
    if !block.is_null() {
        let fill = if flags & POOL_FLAG_UNINITIALIZED != 0 {
            pool::UNINITIALIZED_FILL
        } else {
            0
        };
        // SAFETY: a fresh block of at least `size` bytes (one for 0).
        unsafe { block.write_bytes(fill, size.max(1)) };
    }
    block
}

/// `ExFreePoolWithTag`.
///
/// # Safety
///
/// `P` is not used after it is freed.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExFreePoolWithTag(P: *mut c_void, Tag: ULONG) {
    let _ = Tag;
    // SAFETY: nothing uses `P` after it is freed (this export's contract),
    // which is all `pool::free` needs; it ignores the layout of a tracked
    // block, and raises a bug check for any other pointer.
    guarded((), || unsafe { pool::free(P.cast(), Layout::new::<u8>()) });
}
