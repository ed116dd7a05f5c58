//! Tracked pool: what `ExAllocatePool2` (and so ntwork's safe items)
//! allocates on the host, and what raw-API tests use for their own
//! `WORK_QUEUE_ITEM`s. The `POOL_FLAG_*` values of `ExAllocatePool2` are
//! here too.
//!
//! Blocks are tracked process-wide with the executive that allocated them and
//! the driver whose code allocated them, so a block may be freed on any
//! thread and the unload check counts each driver's own blocks. Freeing a
//! block that holds a *queued* work item leaves the block allocated, so the
//! queued item stays valid: bug check 0xE4/0 under Driver Verifier, a host
//! diagnostic without (retail Windows frees it and corrupts its queue later).

use core::alloc::Layout;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};

use ntwork_sys::{APC_LEVEL, DISPATCH_LEVEL, KIRQL};

use crate::binding::current;
use crate::bugcheck::{
    BAD_POOL_CALLER, BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, HOST_FREED_QUEUED_ITEM,
    HOST_IRQL_ABOVE_DISPATCH, HOST_IRQL_TOO_HIGH, KERNEL_MODE_HEAP_CORRUPTION, WORKER_INVALID,
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

/// `POOL_FLAG_UNINITIALIZED`: the block is not zeroed.
pub const POOL_FLAG_UNINITIALIZED: u64 = 0x2;
/// `POOL_FLAG_RAISE_ON_FAILURE`: a failure raises an exception instead of
/// returning NULL.
pub const POOL_FLAG_RAISE_ON_FAILURE: u64 = 0x20;
/// `POOL_FLAG_NON_PAGED_EXECUTE`: nonpaged, executable pool.
pub const POOL_FLAG_NON_PAGED_EXECUTE: u64 = 0x80;
/// `POOL_FLAG_PAGED`: paged pool (IRQL <= APC_LEVEL).
pub const POOL_FLAG_PAGED: u64 = 0x100;

/// The live block that contains `address`: (start, size).
pub(crate) fn block_containing(address: usize) -> Option<(usize, usize)> {
    blocks()
        .range(..=address)
        .next_back()
        .map(|(&start, b)| (start, b.layout.size()))
        .filter(|&(start, size)| address < start + size.max(1))
}

/// The pool a block comes from (`ExAllocatePool2`'s flag), and its
/// `POOL_TYPE` for Driver Verifier's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolKind {
    /// `POOL_FLAG_NON_PAGED`: `NonPagedPoolNx` (0x200).
    NonPaged,
    /// `POOL_FLAG_NON_PAGED_EXECUTE`: `NonPagedPool` (0).
    NonPagedExecute,
    /// `POOL_FLAG_PAGED`: `PagedPool` (1), at IRQL <= APC_LEVEL.
    Paged,
}

impl PoolKind {
    fn pool_type(self) -> usize {
        match self {
            Self::NonPaged => 0x200,
            Self::NonPagedExecute => 0,
            Self::Paged => 1,
        }
    }

    /// The highest IRQL an allocation of this kind may be made at.
    fn limit(self) -> KIRQL {
        match self {
            Self::Paged => APC_LEVEL,
            _ => DISPATCH_LEVEL,
        }
    }
}

/// The pattern an uninitialized block (`POOL_FLAG_UNINITIALIZED`) is filled
/// with, so code that relies on zeroed memory it did not ask for sees it.
pub(crate) const UNINITIALIZED_FILL: u8 = 0xA5;

/// Allocates nonpaged pool for `layout` (its contents uninitialized),
/// tracked by the calling thread's executive and attributed to the calling
/// driver; `NULL` when [`FaultSite::Pool`] injects a failure.
///
/// Under Driver Verifier ([`Executive::set_driver_verifier`](crate::Executive::set_driver_verifier))
/// a zero-sized layout is bug check 0xC4/0x00, and allocating above
/// `DISPATCH_LEVEL` 0xC4/0x02 (IRQL, `NonPagedPoolNx`, size). Without it, a
/// zero size gets a one-byte block and the IRQL is a host diagnostic
/// ([`HOST_IRQL_ABOVE_DISPATCH`]).
pub fn allocate(layout: Layout) -> *mut u8 {
    let export = allocate as *const () as usize;
    allocate_in(layout, PoolKind::NonPaged, export)
}

/// [`allocate`] from the pool `kind`; `export` names the caller in a
/// diagnostic. Paged pool above APC_LEVEL is 0xC4/0x01 under Driver
/// Verifier, else the host diagnostic [`HOST_IRQL_TOO_HIGH`].
pub(crate) fn allocate_in(layout: Layout, kind: PoolKind, export: usize) -> *mut u8 {
    let inner = current();
    let irql = current_irql();
    let (verifier, driver) = {
        let st = inner.lock();
        (st.verifier, calling_driver(&st, &inner))
    };
    let pool_type = kind.pool_type();
    if layout.size() == 0 && verifier {
        inner.raise(BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x00, irql.into(), pool_type, 0],
        ));
        return core::ptr::null_mut();
    }
    if irql > kind.limit() {
        let bad = match (verifier, kind) {
            (true, PoolKind::Paged) => [0x01, irql.into(), pool_type, layout.size()],
            (true, _) => [0x02, irql.into(), pool_type, layout.size()],
            (false, PoolKind::Paged) => [export, irql.into(), 0, APC_LEVEL.into()],
            (false, _) => [export, irql.into(), 0, 0],
        };
        let code = match (verifier, kind) {
            (true, _) => DRIVER_VERIFIER_DETECTED_VIOLATION,
            (false, PoolKind::Paged) => HOST_IRQL_TOO_HIGH,
            (false, _) => HOST_IRQL_ABOVE_DISPATCH,
        };
        inner.raise(BugCheck::new(code, bad));
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
        freed().remove(&ptr.addr());
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

/// Addresses of blocks freed and not allocated again: a second free of one
/// is a double free (the heap still owns the address).
static FREED: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

fn freed() -> MutexGuard<'static, BTreeSet<usize>> {
    FREED.lock()
}

/// Frees a block from [`allocate`].
///
/// A block that holds a queued `WORK_QUEUE_ITEM` is not freed (the queued
/// item stays valid): bug check 0xE4/0 (0, item, start of block, end of
/// block) under Driver Verifier, else the host diagnostic
/// [`HOST_FREED_QUEUED_ITEM`] with the same parameters. A pointer that is
/// not a live block is a bug check and nothing is freed: under Driver
/// Verifier 0xC4/0x10 (address, 0, 0); without it, a block freed already is
/// 0x13A KERNEL_MODE_HEAP_CORRUPTION (0xF: an operation illegal on a free
/// block, heap (0 on the host), address, 0), and an address no heap owns is
/// 0xC2 BAD_POOL_CALLER (0, 0, address, 0), as `ExFreeHeapPool` raises it.
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
        } else if freed().contains(&address) {
            BugCheck::new(KERNEL_MODE_HEAP_CORRUPTION, [0xF, 0, address, 0])
        } else {
            BugCheck::new(BAD_POOL_CALLER, [0, 0, address, 0])
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
    freed().insert(address);
    // SAFETY: the block was allocated by `allocate` with `tracked_layout`, is
    // no longer tracked, and the caller does not use it again.
    unsafe { std::alloc::dealloc(ptr, tracked_layout) };
}
