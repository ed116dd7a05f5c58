//! Tracked nonpaged pool: what ntwork's safe items allocate on the host, and
//! what raw-API tests use for their own `WORK_QUEUE_ITEM`s.
//!
//! Blocks are tracked process-wide with the executive that allocated them and
//! the driver whose code allocated them, so a block may be freed on any
//! thread and the unload check counts each driver's own blocks. Freeing a
//! block that holds a *queued* work item leaves the block allocated, so the
//! queued item stays valid: bug check 0xE4/0 under Driver Verifier, a host
//! diagnostic without (retail Windows frees it and corrupts its queue later).

use core::alloc::Layout;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use ntwork_sys::DISPATCH_LEVEL;

use crate::binding::current;
use crate::bugcheck::{
    BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, HOST_BAD_POOL_FREE, HOST_FREED_QUEUED_ITEM,
    HOST_IRQL_ABOVE_DISPATCH, WORKER_INVALID,
};
use crate::context::calling_driver;
use crate::faults::FaultSite;
use crate::irql::current_irql;
use crate::state::Inner;
use crate::sync::{Mutex, MutexGuard};

struct Block {
    layout: Layout,
    owner: Weak<Inner>,
    /// The driver (index in its executive) whose code allocated it.
    driver: Option<usize>,
}

static BLOCKS: Mutex<BTreeMap<usize, Block>> = Mutex::new(BTreeMap::new());

fn blocks() -> MutexGuard<'static, BTreeMap<usize, Block>> {
    BLOCKS.lock()
}

fn owned(block: &Block, inner: &Inner) -> bool {
    core::ptr::eq(block.owner.as_ptr(), inner)
}

/// Blocks allocated through `inner` and not freed.
pub(crate) fn owned_by(inner: &Inner) -> usize {
    blocks().values().filter(|b| owned(b, inner)).count()
}

/// Blocks that `driver`'s code allocated through `inner` and did not free.
pub(crate) fn owned_by_driver(inner: &Inner, driver: usize) -> usize {
    blocks()
        .values()
        .filter(|b| owned(b, inner) && b.driver == Some(driver))
        .count()
}

/// The live block that contains `address`: (start, size).
pub(crate) fn block_containing(address: usize) -> Option<(usize, usize)> {
    blocks()
        .range(..=address)
        .next_back()
        .map(|(&start, b)| (start, b.layout.size()))
        .filter(|&(start, size)| address < start + size.max(1))
}

/// Allocates nonpaged pool for `layout`, tracked by the calling thread's
/// executive and attributed to the calling driver; `NULL` when
/// [`FaultSite::Pool`] injects a failure.
///
/// Under Driver Verifier ([`Executive::set_driver_verifier`](crate::Executive::set_driver_verifier))
/// a zero-sized layout is bug check 0xC4/0x00, and allocating above
/// `DISPATCH_LEVEL` 0xC4/0x02. Without it, a zero size gets a one-byte block
/// and the IRQL is a host diagnostic ([`HOST_IRQL_ABOVE_DISPATCH`]).
pub fn allocate(layout: Layout) -> *mut u8 {
    let inner = current();
    let irql = current_irql();
    let (verifier, driver) = {
        let st = inner.lock();
        (st.verifier, calling_driver(&st, &inner))
    };
    if layout.size() == 0 && verifier {
        inner.raise(BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x00, irql.into(), 0, 0],
        ));
        return core::ptr::null_mut();
    }
    if irql > DISPATCH_LEVEL {
        let bad = if verifier {
            BugCheck::new(
                DRIVER_VERIFIER_DETECTED_VIOLATION,
                [0x02, irql.into(), 0, layout.size()],
            )
        } else {
            let export = allocate as *const () as usize;
            BugCheck::new(HOST_IRQL_ABOVE_DISPATCH, [export, irql.into(), 0, 0])
        };
        inner.raise(bad);
        return core::ptr::null_mut();
    }
    if inner.lock().faults.should_fail(FaultSite::Pool) {
        return core::ptr::null_mut();
    }
    let Ok(layout) = Layout::from_size_align(layout.size().max(1), layout.align()) else {
        return core::ptr::null_mut();
    };
    // SAFETY: `layout` has a non-zero size.
    let ptr = unsafe { std::alloc::alloc(layout) };
    if !ptr.is_null() {
        blocks().insert(
            ptr.addr(),
            Block {
                layout,
                owner: Arc::downgrade(&inner),
                driver,
            },
        );
    }
    ptr
}

/// Frees a block from [`allocate`].
///
/// A block that holds a queued `WORK_QUEUE_ITEM` is not freed (the queued
/// item stays valid): bug check 0xE4/0 (0, item, start of block, end of
/// block) under Driver Verifier, else the host diagnostic
/// [`HOST_FREED_QUEUED_ITEM`] with the same parameters. A pointer that is not
/// a live block (never allocated, or freed already): 0xC4/0x10 (address) under
/// Driver Verifier, else [`HOST_BAD_POOL_FREE`]; nothing is freed.
///
/// # Safety
///
/// Nothing uses the block after it is freed (if `ptr` is a live block, it is
/// freed with the layout it was allocated with, whatever `layout` says).
pub unsafe fn free(ptr: *mut u8, layout: Layout) {
    let _ = layout;
    let inner = current();
    let address = ptr.addr();
    let verifier = inner.lock().verifier;
    let bad_free = || {
        if verifier {
            BugCheck::new(DRIVER_VERIFIER_DETECTED_VIOLATION, [0x10, address, 0, 0])
        } else {
            BugCheck::new(HOST_BAD_POOL_FREE, [address, 0, 0, 0])
        }
    };
    let tracked = blocks().get(&address).map(|b| (b.layout, b.owner.clone()));
    let Some((tracked_layout, owner)) = tracked else {
        inner.raise(bad_free());
        return;
    };
    let end = address.wrapping_add(tracked_layout.size());
    for executive in [Some(Arc::clone(&inner)), owner.upgrade()]
        .into_iter()
        .flatten()
    {
        let mut st = executive.lock();
        let queued = st.queues.queued.range(address..end).next().copied();
        if let Some(item) = queued {
            let code = if st.verifier {
                WORKER_INVALID
            } else {
                HOST_FREED_QUEUED_ITEM
            };
            executive.raise_locked(&mut st, BugCheck::new(code, [0, item, address, end]));
            return;
        }
    }
    if blocks().remove(&address).is_none() {
        inner.raise(bad_free());
        return;
    }
    // SAFETY: the block was allocated by `allocate` with `tracked_layout`, is
    // no longer tracked, and the caller does not use it again.
    unsafe { std::alloc::dealloc(ptr, tracked_layout) };
}
