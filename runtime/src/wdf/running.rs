//! The KMDF role ([`WdfRoutine`]), the item as its callback sees it
//! ([`RunningWdfWorkItem`]), and the callback that lends it: the role's `run`
//! takes the running item and the running item is made for the role, so they
//! live together.

use core::fmt;
use core::marker::PhantomData;

use super::context::{Enqueued, WdfContextSpace, enqueue, slot};
use super::parent::WdfParent;
use crate::Routine;
use crate::ffi::wdf::{self as wdf_ffi, WDFWORKITEM};
use crate::guard::guard;
use crate::irql::Passive;

/// A KMDF work-item routine.
///
/// `#[work_item(wdf)]` implements it for `fn(context: &C)` and
/// `fn(context: &C, item: &RunningWdfWorkItem<'_, name>)`; the parent is a
/// [`WdfDevice`](super::WdfDevice) (or a [`WdfQueue`](super::WdfQueue) with
/// `#[work_item(wdf, parent = queue)]`). Nothing of this trait is trusted for
/// memory safety; what the runtime relies on (where the context lives) is a
/// hidden `unsafe` trait the attribute implements.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a KMDF work-item routine",
    label = "not a `#[work_item(wdf)]` routine",
    note = "KMDF routines are made with `#[work_item(wdf)]` on `fn(context: &C)`; Ex and Io routines go through `ExWorkItem` / `IoWorkItem`"
)]
pub trait WdfRoutine: WdfContextSpace + Routine<Context: Sync> {
    /// What the item is created under.
    type Parent: WdfParent;

    /// Runs at PASSIVE_LEVEL on a system worker thread.
    /// `irql` proves `PASSIVE_LEVEL`, where every work-item callback runs.
    fn run(item: &RunningWdfWorkItem<'_, Self>, irql: &mut Passive<'_>);
}

/// The work item as its callback sees it: context, parent, `enqueue` (the
/// callback may queue its item again) and, for an item its driver gave up,
/// `delete`; but no `flush`.
///
/// # Invariants
///
/// `handle` is an item of `R` whose callback is running for `'a`; the
/// framework holds a reference on it (the enqueue's) until the callback
/// returns, so its memory and its context live for `'a`, and its parent too
/// (the parent is disposed only after its children, and a child's disposal
/// waits for its running callback).
pub struct RunningWdfWorkItem<'a, R: WdfRoutine> {
    handle: WDFWORKITEM,
    /// Runs of the item that had returned when this one started.
    ends_at_start: usize,
    _call: PhantomData<&'a R>,
}

impl<'a, R: WdfRoutine> RunningWdfWorkItem<'a, R> {
    /// # Safety
    ///
    /// As the type's invariants.
    unsafe fn new(handle: WDFWORKITEM, ends_at_start: usize) -> Self {
        Self {
            handle,
            ends_at_start,
            _call: PhantomData,
        }
    }

    /// The context.
    pub fn context(&self) -> &'a R::Context {
        // SAFETY: by the invariants the item and its slot live for `'a`.
        unsafe { &slot::<R>(self.handle).context }
    }

    /// The parent, for the callback's duration: items created under it with
    /// this borrow cannot outlive the call.
    pub fn parent(&self) -> &'a R::Parent {
        // SAFETY: by the invariants the item's memory and slot live for `'a`.
        let parent = unsafe { slot::<R>(self.handle) }.parent();
        // SAFETY: by the invariants the parent lives for `'a`, and the item
        // was created under it, an `R::Parent`. Read from the slot, not from
        // the framework: KMDF forgets the parent of an item deleted inside
        // its own callback (its owner dropped there), for the rest of it.
        unsafe { R::Parent::from_object(parent) }
    }

    /// Queues the item again (it is no longer queued while its callback runs).
    pub fn enqueue(&self) -> Enqueued {
        // SAFETY: by the invariants the item is live, its slot initialized.
        unsafe { enqueue::<R>(self.handle) }
    }

    /// `WdfObjectDelete` of the item from its own callback, as KMDF allows:
    /// the C pattern of the one-shot item (created, then given up and
    /// enqueued with [`WdfWorkItem::enqueue_and_leave`](super::WdfWorkItem::enqueue_and_leave),
    /// then deleted by its callback), so such items do not pile up under the
    /// parent until it is removed. ntwork makes the delete when the routine
    /// returns, still inside the framework's callback (as C's delete at the
    /// end of the routine): until then the item stays its parent's child, so
    /// the parent, the context and everything borrowed from this call stay
    /// as they were (a parent's removal still waits for this callback). From
    /// this call on, an enqueue reports [`Enqueued::Deleted`]; the memory
    /// and the context go with the framework's last reference.
    ///
    /// Returns `false` and deletes nothing if a `WdfWorkItem` still owns the
    /// item (its drop deletes it; a delete here would leave it dangling), if
    /// the item was disposed already (its parent is being removed), if
    /// `delete` was called for it before, or if, since this run started, the
    /// item was enqueued again or another run of its callback started or
    /// returned: KMDF skips the wait for the callback only on the thread of
    /// the run that started last, and forgets it when any run returns, so
    /// that delete would wait for this very callback, for ever. A callback
    /// that requeues its item does not also delete it; its next run can.
    #[must_use = "`false` means nothing will be deleted: a `WdfWorkItem` still owns the item (give it up and enqueue it with `enqueue_and_leave`), or another run or enqueue came between"]
    pub fn delete(&self) -> bool {
        // The callback below makes the delete once the routine returned.
        // SAFETY: by the invariants the item is live, its slot initialized.
        unsafe { slot::<R>(self.handle) }.claim_delete(self.ends_at_start)
    }

    /// The handle.
    pub fn as_raw(&self) -> WDFWORKITEM {
        self.handle
    }
}

impl<R: WdfRoutine> fmt::Debug for RunningWdfWorkItem<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RunningWdfWorkItem")
            .field(&self.handle)
            .finish()
    }
}

/// `EVT_WDF_WORKITEM` of routine `R`: clears the item's queued flag, then runs
/// the routine with the running handle.
///
/// # Safety
///
/// Called by the framework for an item created by `WdfWorkItem::<R>::create`,
/// holding a reference on it for the call.
pub(crate) unsafe extern "system" fn callback<R: WdfRoutine>(handle: WDFWORKITEM) {
    // SAFETY: `handle` is an item `create` made for `R`, so its slot is
    // written, and the framework holds a reference on it while this callback
    // runs (this callback's contract).
    let slot = unsafe { slot::<R>(handle) };
    let ends_at_start = slot.start_run();
    // SAFETY: the type's invariants, for this call: the item's callback is
    // running and the framework's reference keeps the item, its context and
    // its parent alive until it returns.
    let running = unsafe { RunningWdfWorkItem::<R>::new(handle, ends_at_start) };
    // SAFETY: ntwork's callback for the framework, on the worker, before the
    // body.
    let mut irql = unsafe { Passive::in_routine() };
    guard(|| R::run(&running, &mut irql));
    if slot.is_delete_claimed() {
        // SAFETY: this run claimed the item's one delete (only the one run in
        // progress can, and no run starts after the claim), which no
        // `WdfWorkItem` owns; the framework's reference for this callback
        // keeps the item live; nothing borrowed from the call is left.
        unsafe { wdf_ffi::WdfObjectDelete(handle.cast()) };
    }
    slot.end_run();
}
