//! The one-shot Ex block: queued once (by [`ExWorkItem`](super::ExWorkItem) or a
//! generated `queue`), taken back and freed by its routine before the body runs,
//! as C does.

use core::ffi::c_void;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use super::{ExRoutine, ExRoutineNeverUnloads, ExRoutineRundown};
use crate::error::{AllocError, QueueError};
use crate::guard::guard;
use crate::held;
use crate::irql::Passive;
use crate::rundown::Rundown;
use crate::{WorkQueue, ffi, pool};

/// One pool block: the kernel's item, the rundown the queue acquired (`S`),
/// then the context. For a routine that names its rundown in its type `S` is
/// `()`, and the block is the C block: item, then context.
///
/// `repr(C)` with `item` first, so the block's address is the item's address.
#[repr(C)]
pub(crate) struct ExBlock<C, S = *const Rundown> {
    pub(super) item: ffi::WORK_QUEUE_ITEM,
    pub(super) rundown: S,
    pub(super) context: ManuallyDrop<C>,
}

impl<C, S: Copy> ExBlock<C, S> {
    /// Stores the context and initializes the item for `routine`.
    ///
    /// Pool blocks come back zeroed (`pool::allocate`), so `List.Blink` and
    /// `rundown` are already NULL: only what `ExInitializeWorkItem` sets and
    /// the context are written, as C code does.
    ///
    /// # Safety
    ///
    /// `block` is a fresh, zeroed allocation for one `Self` (all zeroes is a
    /// valid `S`), and `routine` takes such a block as its parameter.
    #[inline]
    pub(super) unsafe fn init(
        block: NonNull<Self>,
        context: C,
        routine: unsafe extern "system" fn(*mut c_void),
    ) {
        let raw = block.as_ptr();
        // SAFETY: `raw` is a live allocation for one `Self` (the contract);
        // only the field's address is taken.
        let context_slot = unsafe { &raw mut (*raw).context };
        // SAFETY: a field of the fresh block, which only this call uses: it
        // is written in place, never read before.
        unsafe { context_slot.write(ManuallyDrop::new(context)) };
        // SAFETY: `raw` is a live allocation for one `Self`; only the field's
        // address is taken.
        let item = unsafe { &raw mut (*raw).item };
        // SAFETY: the item is writable and unqueued (fresh); the zeroed
        // fields `ExInitializeWorkItem` leaves alone (`Blink`) are valid as
        // they are; `routine` takes this block as its parameter.
        unsafe { ffi::ExInitializeWorkItem(item, Some(routine), raw.cast()) };
    }

    /// Reads the context and the rundown slot out of a queued block.
    ///
    /// # Safety
    ///
    /// `block` is a live block whose context is initialized; the context is
    /// not read again.
    pub(crate) unsafe fn take(block: *mut Self) -> (C, S) {
        // SAFETY: `block` is a live block (the contract); only the field's
        // address is taken.
        let context_slot = unsafe { &raw const (*block).context };
        // SAFETY: the block's context is initialized, and the caller does not
        // read it again (the contract): it is moved out once.
        let context = ManuallyDrop::into_inner(unsafe { context_slot.read() });
        // SAFETY: a live block; the slot is `Copy` and written before queueing
        // (zeroed, a valid `S`, until then).
        let slot = unsafe { (*block).rundown };
        (context, slot)
    }

    /// The one-shot queue: a fresh block holding `context` and `slot`,
    /// initialized for `routine` and queued with `ExQueueWorkItem`; the
    /// context back on low resources.
    ///
    /// # Safety
    ///
    /// `routine` takes such a block as its parameter, once, and frees it.
    #[inline]
    unsafe fn queue_new(
        context: C,
        slot: S,
        routine: unsafe extern "system" fn(*mut c_void),
        queue: WorkQueue,
    ) -> Result<(), C> {
        let Some(block) = pool::allocate_for::<Self>() else {
            return Err(context);
        };
        let raw = block.as_ptr();
        // SAFETY: a fresh, zeroed block for one `Self` (`allocate_for`), and
        // `routine` takes such a block (this function's contract).
        unsafe { Self::init(block, context, routine) };
        // SAFETY: the block is live; only the field's address is taken.
        let rundown_slot = unsafe { &raw mut (*raw).rundown };
        // SAFETY: the block is still ours alone (not queued yet): its slot is
        // written in place.
        unsafe { rundown_slot.write(slot) };
        // SAFETY: the block is live; only the field's address is taken.
        let item = unsafe { &raw mut (*raw).item };
        // SAFETY: an initialized, unqueued item in nonpaged pool, queued once;
        // the block belongs to the queue (and `routine`) from here on.
        unsafe { ffi::ExQueueWorkItem(item, queue.as_raw()) };
        Ok(())
    }
}

/// A one-shot queue counted in `rundown`: protection first, then the block,
/// as C does, so nothing is held across the acquire call; the protection is
/// released again if the block cannot be had.
///
/// # Safety
///
/// `routine` takes such a block (an `ExBlock<C, S>`) as its parameter, once,
/// frees it, and releases `rundown` once after the routine has run.
#[inline]
unsafe fn queue_new_counted<C, S: Copy>(
    rundown: &'static Rundown,
    context: C,
    slot: S,
    routine: unsafe extern "system" fn(*mut c_void),
    queue: WorkQueue,
) -> Result<(), QueueError<C>> {
    if !rundown.acquire() {
        return Err(rundown.refusal(context));
    }
    // SAFETY: `routine` takes such a block as its parameter, once, and frees
    // it (this function's contract).
    unsafe { ExBlock::queue_new(context, slot, routine, queue) }.map_err(|context| {
        // SAFETY: acquired above for this item, which does not exist.
        unsafe { rundown.release() };
        QueueError::InsufficientResources(context)
    })
}

/// The one-shot Ex queue behind `name::queue(context, queue, irql)` of a routine of
/// a driver that cannot unload: the block, as C code without protection.
#[inline]
pub(crate) fn queue_once_uncounted<R: ExRoutineNeverUnloads>(
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    // SAFETY: `ex_uncounted_block` takes an `ExBlock<R::Context, ()>` back
    // once and frees it.
    unsafe { ExBlock::<_, ()>::queue_new(context, (), ex_uncounted_block::<R>, queue) }
        .map_err(AllocError)
}

/// The one-shot Ex queue behind `name::queue(context, queue, irql)` of a routine
/// that names its rundown: the rundown never stored.
#[inline]
pub(crate) fn queue_once_counted<R: ExRoutineRundown>(
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), QueueError<R::Context>> {
    // SAFETY: `ex_counted_block` takes an `ExBlock<R::Context, ()>` back once,
    // frees it, and releases `R::RUNDOWN` after the routine.
    unsafe { queue_new_counted(R::RUNDOWN, context, (), ex_counted_block::<R>, queue) }
}

/// The one-shot Ex queue behind `name::queue(&rundown, context, queue, irql)`:
/// the same block as `ExWorkItem::new` + `queue`, the rundown stored in it.
#[inline]
pub(crate) fn queue_once<R: ExRoutine>(
    rundown: &'static Rundown,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), QueueError<R::Context>> {
    // SAFETY: `ex_block` takes an `ExBlock<R::Context>` back once, frees it,
    // and releases the rundown stored in it after the routine.
    unsafe {
        queue_new_counted(
            rundown,
            context,
            core::ptr::from_ref(rundown),
            ex_block::<R>,
            queue,
        )
    }
}

/// Takes a one-shot Ex block back from the kernel: reads its context and
/// rundown slot out, and frees it (before the routine runs, as C does).
///
/// # Safety
///
/// `parameter` is an `ExBlock<C, S>` queued once with its context written,
/// just dequeued by a worker: ownership comes back here, once.
#[inline(always)]
unsafe fn take_block<C, S: Copy>(parameter: *mut c_void) -> (C, S) {
    let block = parameter.cast::<ExBlock<C, S>>();
    // SAFETY: `parameter` is a live `ExBlock<C, S>` with its context written,
    // owned here from now on (the contract): its context is read this once.
    let taken = unsafe { ExBlock::take(block) };
    // SAFETY: the block is the `NonNull` that `pool::allocate_for` returned.
    let block = unsafe { NonNull::new_unchecked(block) };
    // SAFETY: the block came from `pool::allocate_for::<ExBlock<C, S>>`; its
    // context was moved out above and nothing uses it again.
    unsafe { pool::free_for(block) };
    taken
}

/// `WORKER_THREAD_ROUTINE` of [`ExWorkItem<R>`](crate::ExWorkItem): `parameter`
/// is its block.
///
/// # Safety
///
/// `parameter` is the block of an `ExWorkItem<R>` that `queue` handed to the
/// kernel with its rundown acquired, just dequeued by a worker.
pub(crate) unsafe extern "system" fn ex_block<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: `parameter` is the `ExBlock<R::Context>` that `queue` handed to
    // the kernel once, its context written and its rundown stored, now
    // dequeued (this routine's contract): taken back here, once.
    let (context, rundown) = unsafe { take_block::<R::Context, *const Rundown>(parameter) };
    // SAFETY: `queue` stored a `&'static Rundown`.
    let rundown = unsafe { &*rundown };
    // The context is consumed (and dropped) inside the routine's call.
    let held = [Some(rundown.drain().held()), None];
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    held::running(held, || guard(|| R::run(context, &mut irql)));
    // SAFETY: `queue` acquired this rundown for this item; released once,
    // after everything that runs in the driver image for it.
    unsafe { rundown.release() };
}

/// `WORKER_THREAD_ROUTINE` of a one-shot item of a routine that names its
/// rundown ([`ExRoutineRundown`]).
///
/// # Safety
///
/// `parameter` is the `ExBlock<R::Context, ()>` that `queue_once_counted`
/// queued, counted in `R::RUNDOWN`.
pub(crate) unsafe extern "system" fn ex_counted_block<R: ExRoutineRundown>(parameter: *mut c_void) {
    // SAFETY: `parameter` is the `ExBlock<R::Context, ()>` that
    // `queue_once_counted` queued once with its context written, now dequeued
    // (this routine's contract): taken back here, once.
    let (context, ()) = unsafe { take_block::<R::Context, ()>(parameter) };
    held::running([Some(R::RUNDOWN.drain().held()), None], || {
        // SAFETY: ntwork's routine for the kernel, on the worker, before the
        // body.
        let mut irql = unsafe { Passive::in_routine() };
        guard(|| R::run(context, &mut irql))
    });
    // SAFETY: `queue_once_counted` acquired `R::RUNDOWN` for this item;
    // released once, after everything that runs in the image for it.
    unsafe { R::RUNDOWN.release() };
}

/// `WORKER_THREAD_ROUTINE` of a one-shot item of a driver that cannot unload
/// ([`ExRoutineNeverUnloads`]).
///
/// # Safety
///
/// `parameter` is the `ExBlock<R::Context, ()>` that `queue_once_uncounted`
/// queued.
pub(crate) unsafe extern "system" fn ex_uncounted_block<R: ExRoutineNeverUnloads>(
    parameter: *mut c_void,
) {
    // SAFETY: `parameter` is the `ExBlock<R::Context, ()>` that
    // `queue_once_uncounted` queued once with its context written, now
    // dequeued (this routine's contract): taken back here, once.
    let (context, ()) = unsafe { take_block::<R::Context, ()>(parameter) };
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    guard(|| R::run(context, &mut irql));
}
