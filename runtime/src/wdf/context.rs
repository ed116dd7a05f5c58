//! The item's context space: its type info, what it holds, and the two
//! framework callbacks that end it. Written by `create` right after the
//! framework made the item; marked deleted by `EvtCleanupCallback` (the item
//! was disposed: the framework ignores enqueues from then on); dropped by
//! `EvtDestroyCallback`, at the framework's last reference, so a callback the
//! framework still runs after cleanup (an enqueue made before a delete keeps a
//! reference) still has its context.

use core::ffi::CStr;
use core::ptr::NonNull;

use crate::Routine;
use crate::ffi::wdf::{self as wdf_ffi, WDF_OBJECT_CONTEXT_TYPE_INFO, WDFOBJECT, WDFWORKITEM};
use crate::guard::guard;
use crate::sync::{AtomicUsize, Ordering};

/// The context type of a routine: its `WDF_OBJECT_CONTEXT_TYPE_INFO`, which
/// points to itself as the unique type (what `WDF_DECLARE_CONTEXT_TYPE` emits).
/// `#[work_item(wdf)]` declares one per routine, as a `static`.
#[repr(transparent)]
pub struct ContextType(WDF_OBJECT_CONTEXT_TYPE_INFO);

/// A parent's `KEPT_TYPE` space: the handle of the item it keeps, and a spin
/// lock that orders a lookup's reference (`WdfWorkItemRef::kept`, on any
/// thread) against the parent's cleanup releasing the item. Zeroed by the
/// framework: a null handle and a released lock.
#[repr(C)]
pub(crate) struct KeptSlot {
    pub(crate) handle: core::sync::atomic::AtomicPtr<wdf_ffi::WDFWORKITEM__>,
    lock: core::cell::UnsafeCell<crate::ffi::EX_SPIN_LOCK>,
}

impl KeptSlot {
    /// Runs `f` on the handle with the slot's lock held (at DISPATCH_LEVEL,
    /// for the few instructions of a lookup or a release). The caller is at
    /// IRQL <= DISPATCH_LEVEL, as every KMDF callback that can reach a parent.
    pub(crate) fn locked<T>(
        &self,
        f: impl FnOnce(&core::sync::atomic::AtomicPtr<wdf_ffi::WDFWORKITEM__>) -> T,
    ) -> T {
        // SAFETY: the slot's own `EX_SPIN_LOCK`, zeroed (released) by the
        // framework and used only here, by one acquire and one release per
        // call; the caller is at IRQL <= DISPATCH_LEVEL and `f` takes no
        // other lock.
        let old = unsafe { crate::ffi::ExAcquireSpinLockExclusive(self.lock.get()) };
        let result = f(&self.handle);
        // SAFETY: acquired above at `old` by this thread, released once.
        unsafe { crate::ffi::ExReleaseSpinLockExclusive(self.lock.get(), old) };
        result
    }
}

// SAFETY: the info is immutable after construction; its pointers are to
// `'static` data (the name and the info itself).
unsafe impl Sync for ContextType {}

impl ContextType {
    /// The info for routine `R`'s context, named `name`; `this` is the static
    /// being initialized (the type's identity).
    pub const fn new<R: Routine>(name: &'static CStr, this: &'static ContextType) -> Self {
        Self(WDF_OBJECT_CONTEXT_TYPE_INFO {
            Size: size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
            ContextName: name.as_ptr(),
            ContextSize: size_of::<Slot<R::Context>>(),
            UniqueType: (this as *const ContextType).cast(),
            EvtDriverGetUniqueContextType: None,
        })
    }

    /// The type info of a parent's context space that keeps one item (its
    /// handle), named `name`; `this` is the static itself.
    pub const fn kept(name: &'static CStr, this: &'static ContextType) -> Self {
        Self(WDF_OBJECT_CONTEXT_TYPE_INFO {
            Size: size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
            ContextName: name.as_ptr(),
            ContextSize: size_of::<KeptSlot>(),
            UniqueType: (this as *const ContextType).cast(),
            EvtDriverGetUniqueContextType: None,
        })
    }

    /// The raw info.
    pub fn as_raw(&'static self) -> *const WDF_OBJECT_CONTEXT_TYPE_INFO {
        &self.0
    }

    /// The context bytes the type asks for.
    pub(crate) const fn size(&self) -> usize {
        self.0.ContextSize
    }
}

/// The context types of a KMDF routine: what the runtime trusts to find a
/// routine's context (and the item a parent keeps) in framework context space.
/// `#[work_item(wdf)]` implements it; it is not meant to be written by hand.
///
/// # Safety
///
/// `CONTEXT_TYPE` is a `static` of its own, initialized with
/// `ContextType::new::<Self>(name, &itself)`, and `KEPT_TYPE` a `static` of
/// its own, initialized with `ContextType::kept(name, &itself)`; no other
/// routine names either. The runtime reads a `Slot<Self::Context>` from any
/// object's context space of `CONTEXT_TYPE`, and a handle of an item of
/// `Self` from any of `KEPT_TYPE`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no KMDF context type: KMDF routines are made with `#[work_item(wdf)]`",
    label = "not a `#[work_item(wdf)]` routine",
    note = "where a routine's context lives in framework memory is trusted for memory safety, so only the attribute declares it"
)]
pub unsafe trait WdfContextSpace: Routine {
    /// The routine's context type info.
    const CONTEXT_TYPE: &'static ContextType;
    /// The type info of a parent's context space that keeps an item of this
    /// routine.
    const KEPT_TYPE: &'static ContextType;
}

/// Set by `enqueue`, cleared by the callback before the routine runs.
const QUEUED: usize = 1;
/// Set by the item's cleanup: it is disposed; the framework ignores enqueues.
const DELETED: usize = 2;
/// Set when the driver's `WdfWorkItem` gave the item up (`leave_to_parent`,
/// `keep_in_parent`): no drop of the driver's deletes it any more.
const OWNERLESS: usize = 4;
/// Set by the one `WdfObjectDelete` a running callback makes of its item;
/// from then on ntwork makes no enqueue of it.
const DELETE_CLAIMED: usize = 8;
/// One running callback: bits 4..16 count the runs in progress.
const RUN: usize = 1 << 4;
const RUNS: usize = 0xFFF << 4;
/// One returned callback: the bits from 16 count them (wrapping).
const END: usize = 1 << 16;

/// What the item's context space holds.
///
/// # Invariants
///
/// Written by `create` right after the framework made the item, before any
/// enqueue; dropped once, by the destroy callback. `parent` is the object
/// the item was created under, for the item's life: KMDF forgets it when it
/// disposes the item (`WdfWorkItemGetParentObject` returns NULL after a
/// delete, even one made inside the item's own callback), so the runtime
/// reads it from here.
pub(crate) struct Slot<C> {
    state: AtomicUsize,
    parent: WDFOBJECT,
    pub(crate) context: C,
}

impl<C> Slot<C> {
    /// A slot for a fresh item created under `parent` (non-NULL).
    pub(crate) fn new(context: C, parent: WDFOBJECT) -> Self {
        Self {
            state: AtomicUsize::new(0),
            parent,
            context,
        }
    }

    /// The object the item was created under.
    pub(crate) fn parent(&self) -> WDFOBJECT {
        self.parent
    }

    /// Marks the item queued; what the state was.
    fn mark_queued(&self) -> Mark {
        let old = self.state.fetch_or(QUEUED, Ordering::AcqRel);
        if old & (DELETED | DELETE_CLAIMED) != 0 {
            Mark::Deleted
        } else if old & QUEUED != 0 {
            Mark::AlreadyQueued
        } else {
            Mark::Queued
        }
    }

    /// The callback started: the item is not queued any more, and one more
    /// callback runs (one atomic step, so a running callback that looks finds
    /// another run either queued or counted). Returns the count of returned
    /// runs at this start, for [`claim_delete`](Self::claim_delete).
    pub(crate) fn start_run(&self) -> usize {
        let old = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some((state & !QUEUED) + RUN)
            });
        old.unwrap_or_else(|state| state) / END
    }

    /// The callback returned.
    pub(crate) fn end_run(&self) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some((state - RUN).wrapping_add(END))
            });
    }

    /// Whether the item was disposed (its cleanup ran).
    pub(crate) fn is_deleted(&self) -> bool {
        self.state.load(Ordering::Acquire) & DELETED != 0
    }

    /// Whether a running callback claimed the item's delete.
    pub(crate) fn is_delete_claimed(&self) -> bool {
        self.state.load(Ordering::Acquire) & DELETE_CLAIMED != 0
    }

    /// The driver's `WdfWorkItem` gave the item up, for good.
    pub(crate) fn mark_ownerless(&self) {
        self.state.fetch_or(OWNERLESS, Ordering::AcqRel);
    }

    /// Claims the one delete the item's own callback may make: only of an
    /// item no `WdfWorkItem` owns (whose drop would delete it again), not
    /// disposed, not claimed before, and whose callback runs only here, with
    /// no enqueue pending and no run returned since this one started
    /// (`ends_at_start`, from [`start_run`](Self::start_run)). KMDF's delete
    /// from a callback skips its wait only on `m_WorkItemThread`, the thread
    /// of the run that started last, which any run clears when it returns:
    /// after another run started or returned, it would wait for its own
    /// callback, for ever. Once claimed, ntwork makes no enqueue, so no run
    /// starts before the delete.
    pub(crate) fn claim_delete(&self, ends_at_start: usize) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & OWNERLESS == 0
                || state & (DELETED | DELETE_CLAIMED | QUEUED) != 0
                || state & RUNS != RUN
                || state / END != ends_at_start
            {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state | DELETE_CLAIMED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }
}

/// What [`Slot::mark_queued`] found.
enum Mark {
    /// Not queued before: this caller enqueues.
    Queued,
    /// Queued already, its callback not started.
    AlreadyQueued,
    /// Disposed: the framework would ignore an enqueue.
    Deleted,
}

/// What [`WdfWorkItem::enqueue`](super::WdfWorkItem::enqueue) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Enqueued {
    /// The item was not queued: `WdfWorkItemEnqueue` was called, and its
    /// callback will run (unless the framework starts disposing the item at
    /// the same moment, see `docs/kmdf.md`).
    Queued,
    /// The item was queued already (and its callback not started): the
    /// framework ignores a second enqueue, so the pending callback must
    /// process all pending work.
    Coalesced,
    /// The item was disposed (deleted, or its parent removed): the framework
    /// ignores the enqueue, and no callback runs for it.
    Deleted,
}

/// `WdfWorkItemEnqueue`, unless the item is queued and its callback has not
/// started, or it was disposed: then the framework would ignore it, and this
/// says so.
///
/// # Safety
///
/// `handle` is an item of `R` whose memory is live, its slot initialized.
pub(crate) unsafe fn enqueue<R: WdfContextSpace>(handle: WDFWORKITEM) -> Enqueued {
    // SAFETY: `handle` is an item of `R` whose memory is live and slot
    // initialized (the contract), for this call.
    let slot = unsafe { slot::<R>(handle) };
    match slot.mark_queued() {
        Mark::AlreadyQueued => Enqueued::Coalesced,
        Mark::Deleted => Enqueued::Deleted,
        Mark::Queued => {
            // SAFETY: a live item (the caller's contract), not disposed.
            unsafe { wdf_ffi::WdfWorkItemEnqueue(handle) };
            Enqueued::Queued
        }
    }
}

/// The item's slot.
///
/// # Safety
///
/// `handle` is an item created for `R` whose slot is initialized, and its
/// memory (the framework's reference) stays valid during `'a`.
pub(crate) unsafe fn slot<'a, R: WdfContextSpace>(handle: WDFWORKITEM) -> &'a Slot<R::Context> {
    // SAFETY: `handle` is a live item (the contract), and `CONTEXT_TYPE` a
    // context type info: the lookup's two inputs.
    let space =
        unsafe { wdf_ffi::WdfObjectGetTypedContextWorker(handle.cast(), R::CONTEXT_TYPE.as_raw()) };
    // SAFETY: the item was created for `R`, so its space of `R::CONTEXT_TYPE`
    // is a `Slot<R::Context>` (`WdfContextSpace`'s contract), initialized and
    // live for `'a` (this function's contract); it is only shared.
    unsafe { &*space.cast::<Slot<R::Context>>() }
}

/// `EVT_WDF_OBJECT_CONTEXT_CLEANUP` of an item of `R`: it was disposed.
///
/// # Safety
///
/// Called by the framework, once, for an item `create` made for `R`.
pub(crate) unsafe extern "system" fn cleanup<R: WdfContextSpace>(object: WDFOBJECT) {
    // SAFETY: `object` is an item `create` made for `R` (this callback's
    // contract), so its slot was written; its memory is live during its
    // cleanup.
    let slot = unsafe { slot::<R>(object.cast()) };
    slot.state.fetch_or(DELETED, Ordering::AcqRel);
}

/// `EVT_WDF_OBJECT_CONTEXT_DESTROY` of an item of `R`: the framework's last
/// reference went; the context is dropped.
///
/// # Safety
///
/// Called by the framework, once, for an item `create` made for `R`, before
/// it frees the context space.
pub(crate) unsafe extern "system" fn destroy<R: WdfContextSpace>(object: WDFOBJECT) {
    // The context's destructor is driver code: inside the guard.
    guard(|| {
        // SAFETY: `object` is an item whose memory is live until this
        // callback returns (this callback's contract), and `CONTEXT_TYPE` a
        // context type info.
        let space =
            unsafe { wdf_ffi::WdfObjectGetTypedContextWorker(object, R::CONTEXT_TYPE.as_raw()) };
        if let Some(slot) = NonNull::new(space.cast::<Slot<R::Context>>()) {
            // SAFETY: the `Slot<R::Context>` `create` wrote for this item of
            // `R`, dropped here once; nothing reaches it any more (the
            // framework's last reference went).
            unsafe { core::ptr::drop_in_place(slot.as_ptr()) };
        }
    });
}
