//! Tracked nonpaged pool: what ntwork's safe items allocate on the host, and
//! what raw-API tests use for their own `WORK_QUEUE_ITEM`s.
//!
//! Blocks are tracked process-wide with the executive that allocated them, so
//! a block may be freed on any thread. Freeing a block that holds a *queued*
//! work item is bug check 0xE4 subcode 0, and the block is then leaked rather
//! than freed, so the queued item stays valid.

use core::alloc::Layout;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};

use ntwork::ffi::DISPATCH_LEVEL;

use crate::bugcheck::{BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, WORKER_INVALID};
use crate::executive::{Inner, current};
use crate::faults::FaultSite;
use crate::irql::current_irql;

struct Block {
    layout: Layout,
    owner: Weak<Inner>,
}

static BLOCKS: LazyLock<Mutex<HashMap<usize, Block>>> = LazyLock::new(Mutex::default);

fn blocks() -> MutexGuard<'static, HashMap<usize, Block>> {
    BLOCKS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Blocks allocated through `inner` and not freed.
pub(crate) fn owned_by(inner: &Arc<Inner>) -> usize {
    blocks()
        .values()
        .filter(|b| core::ptr::eq(b.owner.as_ptr(), Arc::as_ptr(inner)))
        .count()
}

/// Allocates nonpaged pool for `layout`, tracked by the calling thread's
/// executive; `NULL` when [`FaultSite::Pool`] injects a failure.
///
/// A zero-sized layout is Driver Verifier's bug check 0xC4 subcode 0x00, and
/// allocating above `DISPATCH_LEVEL` subcode 0x02; both return `NULL`.
pub fn allocate(layout: Layout) -> *mut u8 {
    let inner = current();
    let irql = current_irql();
    if layout.size() == 0 {
        inner.raise(BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x00, irql.into(), 0, 0],
        ));
        return core::ptr::null_mut();
    }
    if irql > DISPATCH_LEVEL {
        let bad = [0x02, irql.into(), 0, layout.size()];
        inner.raise(BugCheck::new(DRIVER_VERIFIER_DETECTED_VIOLATION, bad));
        return core::ptr::null_mut();
    }
    if inner.lock().faults.should_fail(FaultSite::Pool) {
        return core::ptr::null_mut();
    }
    // SAFETY: the layout is not zero-sized.
    let ptr = unsafe { std::alloc::alloc(layout) };
    if !ptr.is_null() {
        blocks().insert(
            ptr as usize,
            Block {
                layout,
                owner: Arc::downgrade(&inner),
            },
        );
    }
    ptr
}

/// Frees a block from [`allocate`].
///
/// Freeing a block that holds a queued `WORK_QUEUE_ITEM` is bug check 0xE4
/// subcode 0 (item, start of block, end of block); the block is leaked. A
/// pointer that is not a live block (never allocated, or freed already) is
/// Driver Verifier's bug check 0xC4 subcode 0x10 and nothing is freed.
///
/// # Safety
///
/// Nothing uses the block after it is freed (if `ptr` is a live block, it is
/// freed with the layout it was allocated with, whatever `layout` says).
pub unsafe fn free(ptr: *mut u8, layout: Layout) {
    let _ = layout;
    let inner = current();
    let address = ptr as usize;
    let tracked = blocks().get(&address).map(|b| (b.layout, b.owner.clone()));
    let Some((tracked_layout, owner)) = tracked else {
        inner.raise(BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x10, address, 0, 0],
        ));
        return;
    };
    let end = address.wrapping_add(tracked_layout.size());
    for executive in [Some(Arc::clone(&inner)), owner.upgrade()]
        .into_iter()
        .flatten()
    {
        let mut st = executive.lock();
        let queued = st.queued.range(address..end).next().copied();
        if let Some(item) = queued {
            executive.raise_locked(
                &mut st,
                BugCheck::new(WORKER_INVALID, [0, item, address, end]),
            );
            return;
        }
    }
    if blocks().remove(&address).is_none() {
        // Freed by another thread meanwhile.
        inner.raise(BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x10, address, 0, 0],
        ));
        return;
    }
    // SAFETY: a live block allocated with `tracked_layout`, now untracked, so
    // freed exactly once; the caller no longer uses it.
    unsafe { std::alloc::dealloc(ptr, tracked_layout) };
}
