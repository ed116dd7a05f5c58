//! The owned one-shot Ex item: its block allocated up front, queued once.

use crate::irql::{AtMostDispatch, verify};
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use super::ExRoutine;
use super::block::{ExBlock, ex_block};
use crate::error::{AllocError, QueueError};
use crate::rundown::Rundown;
use crate::{Routine, WorkQueue, ffi, pool};

/// An owned, one-shot Ex work item: one pool allocation holding the
/// `WORK_QUEUE_ITEM` and the context.
///
/// [`queue`](Self::queue) consumes it; the trampoline takes ownership back, frees
/// the block, and runs the routine with the context. Queueing twice is a
/// use-after-move compile error, so the kernel's bug check `0xE4` (subcode 1)
/// cannot happen. Dropping an unqueued item drops its context and frees it.
///
/// ```
/// use ntwork::irql::Passive;
/// use ntwork::{DriverObject, ExWorkItem, Rundown, WorkQueue, work_item};
///
/// static WORK: Rundown = Rundown::new();
///
/// #[work_item]
/// fn flush_log(lines: Vec<String>) {
///     assert_eq!(lines.len(), 2);
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// # let host_driver = exec.load_driver("log.sys");
/// # let driver = DriverObject::of(&host_driver);
/// let irql = Passive::on_host(); // a driver's: `unsafe { Passive::assume() }` in DriverEntry
/// # driver.set_unload(|_, _| {}, &irql).unwrap();
/// WORK.open(driver, &irql).unwrap(); // DriverEntry, after `set_unload`
/// let item: ExWorkItem<flush_log> = flush_log::new(vec!["a".into(), "b".into()], &irql).unwrap();
/// item.queue(&WORK, WorkQueue::Delayed, &irql).unwrap();
/// assert_eq!(exec.run_until_idle(), 1);
/// ```
///
/// # Invariants
///
/// `block` is a live pool allocation owned by this value alone, with `item`
/// initialized by `ExInitializeWorkItem` (not queued) and `context` initialized.
#[must_use = "an Ex work item does nothing until it is queued; dropping it frees it"]
pub struct ExWorkItem<R: Routine> {
    block: NonNull<ExBlock<R::Context>>,
}

// SAFETY: the item uniquely owns its block; moving it moves only a `Context`,
// which is `Send`.
unsafe impl<R: Routine> Send for ExWorkItem<R> {}
// SAFETY: `&ExWorkItem` only gives `&Context`; the raw item is never touched
// through a shared reference.
unsafe impl<R: Routine> Sync for ExWorkItem<R> where R::Context: Sync {}

impl<R: Routine> ExWorkItem<R> {
    /// Allocates the item with its context. On low resources the context comes
    /// back inside the error. Callable at IRQL <= `DISPATCH_LEVEL`.
    ///
    /// The bound is here, not on the type, so an item made for a device- or
    /// driver-bound routine is one error, at this call.
    pub fn new(
        context: R::Context,
        irql: &impl AtMostDispatch,
    ) -> Result<Self, AllocError<R::Context>>
    where
        R: ExRoutine,
    {
        verify(irql, "ExWorkItem::new");
        let Some(block) = pool::allocate_for::<ExBlock<R::Context>>() else {
            return Err(AllocError(context));
        };
        // SAFETY: a fresh, zeroed block for `ex_block`.
        unsafe { ExBlock::init(block, context, ex_block::<R>) };
        // INVARIANT: initialized, unqueued, owned here.
        Ok(Self { block })
    }

    /// Hands the item to the system worker threads of `queue`, counted in
    /// `rundown` until its routine has returned. It runs once, at
    /// `PASSIVE_LEVEL`, and is freed by ntwork. Once `rundown` has started, the
    /// item comes back in [`QueueError::Unloading`] (or
    /// [`QueueError::NotOpen`] before the rundown was opened).
    ///
    /// The queue takes the item: one kept in a struct is taken out first
    /// (`state.flush.take()` of an `Option<ExWorkItem<_>>`). For an item queued
    /// again and again, use a [`ReusableExWorkItem`](crate::ReusableExWorkItem) instead.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn queue(
        self,
        rundown: &'static Rundown,
        queue: WorkQueue,
        irql: &impl AtMostDispatch,
    ) -> Result<(), QueueError<Self>> {
        verify(irql, "ExWorkItem::queue");
        if !rundown.acquire() {
            return Err(rundown.refusal(self));
        }
        let raw = ManuallyDrop::new(self).block.as_ptr();
        // SAFETY: by the invariants the block is live; only the field's
        // address is taken.
        let rundown_slot = unsafe { &raw mut (*raw).rundown };
        // SAFETY: by the invariants the block is ours alone (unqueued): its
        // slot is written in place.
        unsafe { rundown_slot.write(rundown) };
        // SAFETY: the block is live; only the field's address is taken.
        let item = unsafe { &raw mut (*raw).item };
        // SAFETY: by the invariants the item is initialized, not queued, in
        // nonpaged pool. The block now belongs to the queue; `ex_block` takes
        // it back and releases the rundown acquired above.
        unsafe { ffi::ExQueueWorkItem(item, queue.as_raw()) };
        Ok(())
    }

    /// The context the routine will receive.
    pub fn context(&self) -> &R::Context {
        // SAFETY: by the invariants the context is initialized and owned by `self`.
        unsafe { &self.block.as_ref().context }
    }

    /// The context, mutably, before the item is queued.
    pub fn context_mut(&mut self) -> &mut R::Context {
        // SAFETY: by the invariants the block is live, its context initialized
        // and owned by `self` alone; `&mut self` makes this borrow unique.
        unsafe { &mut self.block.as_mut().context }
    }

    /// Gives up the item without queueing it, returning the context.
    pub fn into_context(self) -> R::Context {
        let block = ManuallyDrop::new(self).block;
        // SAFETY: by the invariants the block is live; only the field's
        // address is taken.
        let context_slot = unsafe { &raw const (*block.as_ptr()).context };
        // SAFETY: by the invariants the context is initialized; `self` is
        // gone (not dropped), so it is moved out this once.
        let context = ManuallyDrop::into_inner(unsafe { context_slot.read() });
        // SAFETY: by the invariants the block came from `pool::allocate_for`
        // and was never queued; its context moved out, it is not used again.
        unsafe { pool::free_for(block) };
        context
    }
}

impl<R: Routine> Drop for ExWorkItem<R> {
    fn drop(&mut self) {
        // The block is freed before the context is dropped, so a context whose
        // `Drop` unwinds cannot leak it.
        let block = self.block;
        // SAFETY: by the invariants the block is live; only the field's
        // address is taken.
        let context_slot = unsafe { &raw const (*block.as_ptr()).context };
        // SAFETY: by the invariants the context is initialized; the item is
        // being dropped, so it is moved out this once.
        let context = ManuallyDrop::into_inner(unsafe { context_slot.read() });
        // SAFETY: by the invariants the block came from `pool::allocate_for`
        // and is unqueued; its context moved out, it is freed once, here.
        unsafe { pool::free_for(block) };
        drop(context);
    }
}

impl<R: Routine> core::fmt::Debug for ExWorkItem<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExWorkItem")
            .field("routine", &core::any::type_name::<R>())
            .finish_non_exhaustive()
    }
}
