//! The Ex path: `ExQueueWorkItem`, for work not associated with any device
//! object. The kernel keeps nothing alive for it, so every safe Ex queue is
//! counted in a [`Rundown`] that DriverUnload waits for.

use crate::sync::{AtomicBool, Ordering, UnsafeCell};
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::error::{AllocError, NotQueued, QueueError};
use crate::rundown::{Drain, Rundown};
use crate::{Routine, WorkQueue, ffi, pool, trampolines};

/// A routine that may run on the Ex path (`ExQueueWorkItem`).
///
/// `#[work_item]` implements it for a function that is not device-bound. The
/// trait is safe: all unsafe code is in ntwork's trampolines, so an impl written
/// by hand cannot break memory safety either.
///
/// A device-bound routine does not implement this trait, so every Ex API
/// rejects it at compile time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be queued on the Ex path (ExQueueWorkItem)",
    label = "not an Ex routine",
    note = "a device- or driver-bound routine goes through IoQueueWorkItem: use `ntwork::IoWorkItem<{Self}>` or `{Self}::queue(object, context, queue)`",
    note = "Ex routines are made with `#[work_item]` on `fn(context)`, `fn(&context)` or `fn()`"
)]
pub trait ExRoutine: Routine {
    /// Runs the routine on a worker thread at `PASSIVE_LEVEL`, consuming the context.
    fn run(context: Self::Context);

    /// The `WORKER_THREAD_ROUTINE` of the raw protocol, for callers that manage
    /// their own `WORK_QUEUE_ITEM`: its `Parameter` must come from
    /// [`raw::into_parameter`](crate::raw::into_parameter) with a
    /// `Self::Context` (as `name::initialize` does); it takes the context back,
    /// runs the routine and frees the parameter. Such items are not counted in
    /// any [`Rundown`]: the caller keeps the driver loaded.
    const ROUTINE: ffi::WORKER_THREAD_ROUTINE = trampolines::ex_raw::<Self>;
}

/// An Ex routine that only borrows its context, so a [`ReusableExWorkItem`] can
/// run it many times. `#[work_item]` implements it for `fn(&context)` and `fn()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run from a reusable Ex work item",
    label = "not an Ex routine that borrows its context",
    note = "a reusable item runs its routine many times, so the routine must borrow its context: declare it as `fn(context: &T)` (or `fn()`), or use the one-shot `ntwork::ExWorkItem`",
    note = "a device-bound routine goes through IoQueueWorkItem: use `ntwork::ReusableIoWorkItem<{Self}>`"
)]
pub trait ExRoutineRef: ExRoutine {
    /// Runs the routine with a shared reference to the item's context.
    fn run_ref(context: &Self::Context);
}

/// One pool block: the kernel's item, the rundown the queue acquired (`S`),
/// then the context. For a routine that names its rundown in its type `S` is
/// `()`, and the block is the C block: item, then context.
///
/// `repr(C)` with `item` first, so the block's address is the item's address.
#[repr(C)]
pub(crate) struct ExBlock<C, S = *const Rundown> {
    item: ffi::WORK_QUEUE_ITEM,
    rundown: S,
    context: ManuallyDrop<C>,
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
    unsafe fn init(
        block: NonNull<Self>,
        context: C,
        routine: unsafe extern "system" fn(*mut core::ffi::c_void),
    ) {
        let raw = block.as_ptr();
        // SAFETY: the caller's contract; fields are written in place, and the
        // zeroed ones (`Blink`, `rundown`) are valid as they are.
        unsafe {
            (&raw mut (*raw).context).write(ManuallyDrop::new(context));
            ffi::ExInitializeWorkItem(&raw mut (*raw).item, Some(routine), raw.cast());
        }
    }

    /// Reads the context and the rundown slot out of a queued block.
    ///
    /// # Safety
    ///
    /// `block` is a live block whose context is initialized; the context is
    /// not read again.
    pub(crate) unsafe fn take(block: *mut Self) -> (C, S) {
        // SAFETY: the caller's contract.
        unsafe {
            (
                ManuallyDrop::into_inner((&raw const (*block).context).read()),
                (*block).rundown,
            )
        }
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
        routine: unsafe extern "system" fn(*mut core::ffi::c_void),
        queue: WorkQueue,
    ) -> Result<(), C> {
        let Some(block) = pool::allocate_for::<Self>() else {
            return Err(context);
        };
        let raw = block.as_ptr();
        // SAFETY: a fresh, zeroed block for `routine` (the caller's contract),
        // initialized and queued once; it belongs to the queue from here on.
        unsafe {
            Self::init(block, context, routine);
            (&raw mut (*raw).rundown).write(slot);
            ffi::ExQueueWorkItem(&raw mut (*raw).item, queue.as_raw());
        }
        Ok(())
    }
}

/// A one-shot queue counted in `rundown`: protection first, then the block,
/// as C does, so nothing is held across the acquire call; the protection is
/// released again if the block cannot be had.
///
/// # Safety
///
/// As for [`ExBlock::queue_new`], and `routine` releases `rundown` once after
/// the routine has run.
#[inline]
unsafe fn queue_new_counted<C, S: Copy>(
    rundown: &'static Rundown,
    context: C,
    slot: S,
    routine: unsafe extern "system" fn(*mut core::ffi::c_void),
    queue: WorkQueue,
) -> Result<(), QueueError<C>> {
    if !rundown.acquire() {
        return Err(QueueError::Unloading(context));
    }
    // SAFETY: the caller's contract.
    unsafe { ExBlock::queue_new(context, slot, routine, queue) }.map_err(|context| {
        // SAFETY: acquired above for this item, which does not exist.
        unsafe { rundown.release() };
        QueueError::InsufficientResources(context)
    })
}

/// An Ex routine whose one-shot items count in a rundown named in its type
/// (`#[work_item(rundown = WORK)]`): the trampoline releases `RUNDOWN`
/// itself, so the block does not carry it.
#[doc(hidden)]
pub trait ExRoutineRundown: ExRoutine {
    /// The `static` the routine's one-shot items count in.
    const RUNDOWN: &'static Rundown;
}

/// An Ex routine of a driver that cannot be unloaded
/// (`#[work_item(unsafe(never_unloads))]`): its one-shot items count nowhere.
/// The claim is the `unsafe` of the generated `queue`'s call (at the user's
/// `unsafe` token), as for [`Rundown::never_unloads`].
#[doc(hidden)]
pub trait ExRoutineNeverUnloads: ExRoutine {}

/// The one-shot Ex queue behind `name::queue(context, queue)` of a routine of
/// a driver that cannot unload: the block, as C code without protection.
#[inline]
pub(crate) fn queue_once_uncounted<R: ExRoutineNeverUnloads>(
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    // SAFETY: `ex_uncounted_block` takes an `ExBlock<R::Context, ()>` back
    // once and frees it.
    unsafe { ExBlock::<_, ()>::queue_new(context, (), trampolines::ex_uncounted_block::<R>, queue) }
        .map_err(AllocError)
}

/// The one-shot Ex queue behind `name::queue(context, queue)` of a routine
/// that names its rundown: the rundown never stored.
#[inline]
pub(crate) fn queue_once_counted<R: ExRoutineRundown>(
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), QueueError<R::Context>> {
    // SAFETY: `ex_counted_block` takes an `ExBlock<R::Context, ()>` back once,
    // frees it, and releases `R::RUNDOWN` after the routine.
    unsafe {
        queue_new_counted(
            R::RUNDOWN,
            context,
            (),
            trampolines::ex_counted_block::<R>,
            queue,
        )
    }
}

/// An owned, one-shot Ex work item: one pool allocation holding the
/// `WORK_QUEUE_ITEM` and the context.
///
/// [`queue`](Self::queue) consumes it; the trampoline takes ownership back, frees
/// the block, and runs the routine with the context. Queueing twice is a
/// use-after-move compile error, so the kernel's bug check `0xE4` (subcode 1)
/// cannot happen. Dropping an unqueued item drops its context and frees it.
///
/// ```
/// use ntwork::{ExWorkItem, Rundown, WorkQueue, work_item};
///
/// static WORK: Rundown = Rundown::new();
///
/// #[work_item]
/// fn flush_log(lines: Vec<String>) {
///     assert_eq!(lines.len(), 2);
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let item: ExWorkItem<flush_log> = flush_log::new(vec!["a".into(), "b".into()]).unwrap();
/// item.queue(&WORK, WorkQueue::Delayed).unwrap();
/// assert_eq!(exec.run_until_idle(), 1);
/// ```
///
/// # Invariants
///
/// `block` is a live pool allocation owned by this value alone, with `item`
/// initialized by `ExInitializeWorkItem` (not queued) and `context` initialized.
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
    pub fn new(context: R::Context) -> Result<Self, AllocError<R::Context>>
    where
        R: ExRoutine,
    {
        let Some(block) = pool::allocate_for::<ExBlock<R::Context>>() else {
            return Err(AllocError(context));
        };
        // SAFETY: a fresh, zeroed block for `ex_block`.
        unsafe { ExBlock::init(block, context, trampolines::ex_block::<R>) };
        // INVARIANT: initialized, unqueued, owned here.
        Ok(Self { block })
    }

    /// Hands the item to the system worker threads of `queue`, counted in
    /// `rundown` until its routine has returned. It runs once, at
    /// `PASSIVE_LEVEL`, and is freed by ntwork. Once `rundown` has started, the
    /// item comes back in [`QueueError::Unloading`].
    ///
    /// The queue takes the item: one kept in a struct is taken out first
    /// (`state.flush.take()` of an `Option<ExWorkItem<_>>`). For an item queued
    /// again and again, use a [`ReusableExWorkItem`] instead.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn queue(
        self,
        rundown: &'static Rundown,
        queue: WorkQueue,
    ) -> Result<(), QueueError<Self>> {
        if !rundown.acquire() {
            return Err(QueueError::Unloading(self));
        }
        let raw = ManuallyDrop::new(self).block.as_ptr();
        // SAFETY: by the invariants the item is initialized and not queued. The
        // block now belongs to the queue; `ex_block` takes it back and releases
        // the rundown acquired above.
        unsafe {
            (&raw mut (*raw).rundown).write(rundown);
            ffi::ExQueueWorkItem(&raw mut (*raw).item, queue.as_raw());
        }
        Ok(())
    }

    /// The context the routine will receive.
    pub fn context(&self) -> &R::Context {
        // SAFETY: by the invariants the context is initialized and owned by `self`.
        unsafe { &self.block.as_ref().context }
    }

    /// The context, mutably, before the item is queued.
    pub fn context_mut(&mut self) -> &mut R::Context {
        // SAFETY: as in `context`, and `&mut self` is unique.
        unsafe { &mut self.block.as_mut().context }
    }

    /// Gives up the item without queueing it, returning the context.
    pub fn into_context(self) -> R::Context {
        let block = ManuallyDrop::new(self).block;
        // SAFETY: by the invariants the context is initialized; it is read once
        // and the block, never queued, is freed and not used again.
        unsafe {
            let context = ManuallyDrop::into_inner((&raw const (*block.as_ptr()).context).read());
            pool::free_for(block);
            context
        }
    }
}

/// The one-shot Ex queue behind `name::queue(&rundown, context, queue)`:
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
            trampolines::ex_block::<R>,
            queue,
        )
    }
}

impl<R: Routine> Drop for ExWorkItem<R> {
    fn drop(&mut self) {
        // The block is freed before the context is dropped, so a context whose
        // `Drop` unwinds cannot leak it.
        let block = self.block;
        // SAFETY: by the invariants the context is live and the block unqueued;
        // both are released once, here.
        let context = unsafe {
            let context = ManuallyDrop::into_inner((&raw const (*block.as_ptr()).context).read());
            pool::free_for(block);
            context
        };
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

/// A reusable Ex work item: queued many times, never more than once at a time.
///
/// For an item that lives in a `static` or is shared by an `Arc`. Queueing
/// while pending returns [`NotQueued::AlreadyQueued`] instead of the kernel's
/// bug check `0xE4`. The pending flag clears before the routine runs, so the
/// routine may queue its own item again (kernel and KMDF semantics).
/// [`flush`](Self::flush) waits until the item is neither queued nor running.
/// Every queue is counted in the item's [`Rundown`].
///
/// ```
/// use ntwork::{NotQueued, ReusableExWorkItem, Rundown, WorkQueue, work_item};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// static WORK: Rundown = Rundown::new();
///
/// #[work_item]
/// fn tick(count: &AtomicU32) {
///     count.fetch_add(1, Ordering::Relaxed);
/// }
///
/// static TICK: ReusableExWorkItem<tick> = ReusableExWorkItem::new(&WORK, AtomicU32::new(0));
///
/// let exec = ntwork_host::Executive::manual();
/// TICK.queue_static(WorkQueue::Delayed).unwrap();
/// assert_eq!(TICK.queue_static(WorkQueue::Delayed), Err(NotQueued::AlreadyQueued));
/// exec.run_until_idle();
/// assert_eq!(TICK.context().load(Ordering::Relaxed), 1);
/// ```
///
/// # Invariants
///
/// `pending` is true from a successful claim until the trampoline has taken
/// the item back; while it is true nothing but the kernel touches `item`. Each
/// queued run holds one acquisition of `flush` and one of `rundown`.
pub struct ReusableExWorkItem<R: Routine> {
    item: UnsafeCell<ffi::WORK_QUEUE_ITEM>,
    pending: AtomicBool,
    flush: Drain,
    rundown: &'static Rundown,
    context: R::Context,
}

// SAFETY: the raw item is only written by the one thread that won `pending`
// (and then by the kernel); the context is shared with the worker thread, so it
// must be `Sync` as well as `Send`.
unsafe impl<R: Routine> Sync for ReusableExWorkItem<R> where R::Context: Sync {}
// SAFETY: moving the item moves its context; the raw item is unqueued whenever
// the item can be moved (queueing needs `&'static` or an `Arc` clone).
unsafe impl<R: Routine> Send for ReusableExWorkItem<R> {}

impl<R: Routine> ReusableExWorkItem<R> {
    /// An unqueued item counted in `rundown`; `const`, so it can be a `static`.
    #[cfg(not(loom))]
    pub const fn new(rundown: &'static Rundown, context: R::Context) -> Self
    where
        R: ExRoutineRef,
    {
        Self {
            item: UnsafeCell::new(ffi::WORK_QUEUE_ITEM::new()),
            pending: AtomicBool::new(false),
            flush: Drain::new(),
            rundown,
            context,
        }
    }

    /// As above, for the loom models (not `const` there).
    #[cfg(loom)]
    pub fn new(rundown: &'static Rundown, context: R::Context) -> Self
    where
        R: ExRoutineRef,
    {
        Self {
            item: UnsafeCell::new(ffi::WORK_QUEUE_ITEM::new()),
            pending: AtomicBool::new(false),
            flush: Drain::new(),
            rundown,
            context,
        }
    }
}

impl<R: ExRoutineRef> ReusableExWorkItem<R> {
    /// The context the routine borrows.
    pub fn context(&self) -> &R::Context {
        &self.context
    }

    /// Whether the item is queued and its routine has not started yet. Not a
    /// drain signal: it turns false *before* the routine runs; use
    /// [`flush`](Self::flush) to wait for the routine.
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Queues an item that lives forever (a `static`, or leaked memory).
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    ///
    /// The routine borrows the context on a worker thread while other threads may
    /// hold `&self`, hence `Context: Sync`.
    pub fn queue_static(&'static self, queue: WorkQueue) -> Result<(), NotQueued>
    where
        R::Context: Sync,
    {
        self.claim()?;
        // SAFETY: `claim` made this thread the only writer; `'static` keeps
        // the memory alive for as long as the kernel may use it.
        unsafe {
            self.submit(
                trampolines::ex_reusable_static::<R>,
                (self as *const Self).cast_mut().cast(),
                queue,
            )
        };
        Ok(())
    }

    /// Queues an item shared by an `Arc`; the queue holds one strong reference
    /// until the routine has run, so the memory outlives the kernel's use of it.
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    #[cfg(feature = "alloc")]
    pub fn queue(self: &alloc::sync::Arc<Self>, queue: WorkQueue) -> Result<(), NotQueued>
    where
        R::Context: Sync,
    {
        self.claim()?;
        let parameter = alloc::sync::Arc::into_raw(alloc::sync::Arc::clone(self)).cast_mut();
        // SAFETY: `claim` made this thread the only writer; the leaked strong
        // reference is taken back exactly once by `ex_reusable_arc`.
        unsafe { self.submit(trampolines::ex_reusable_arc::<R>, parameter.cast(), queue) };
        Ok(())
    }

    /// Waits until the item is neither queued nor running. While it waits the
    /// item refuses new work ([`NotQueued::Flushing`]), so a routine that
    /// requeues itself stops. `PASSIVE_LEVEL`; not from the item's own routine
    /// (it would wait for itself).
    pub fn flush(&self) {
        self.flush.wait();
        self.flush.reopen();
    }

    /// Takes the pending flag, then the item's flush protection, then the
    /// driver's rundown; undoes what it took if a later step fails.
    fn claim(&self) -> Result<(), NotQueued> {
        if self
            .pending
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(NotQueued::AlreadyQueued);
        }
        if !self.flush.acquire() {
            self.pending.store(false, Ordering::Release);
            return Err(NotQueued::Flushing);
        }
        if !self.rundown.acquire() {
            // SAFETY: acquired just above, released once.
            unsafe { self.flush.release() };
            self.pending.store(false, Ordering::Release);
            return Err(NotQueued::Unloading);
        }
        Ok(())
    }

    /// # Safety
    ///
    /// The caller won `claim`, and `parameter` (which is `self`) stays valid
    /// until `routine` has run.
    unsafe fn submit(
        &self,
        routine: ffi::WORKER_THREAD_ROUTINE,
        parameter: *mut core::ffi::c_void,
        queue: WorkQueue,
    ) {
        // SAFETY: the caller holds the claim, so no other thread writes the item
        // and the kernel has dequeued any earlier submission; from the queue
        // call on, only the kernel touches it.
        unsafe {
            let item = self.item.with_mut(|item| {
                ffi::ExInitializeWorkItem(item, Some(routine), parameter);
                item
            });
            ffi::ExQueueWorkItem(item, queue.as_raw());
        }
    }

    /// What a run of this item holds: its flush protection and its rundown.
    pub(crate) fn drains(&self) -> [Option<&Drain>; 2] {
        [Some(&self.flush), Some(self.rundown.drain())]
    }

    /// The trampoline took the item back: clear the flag first, so the routine
    /// may queue this item again.
    pub(crate) fn unclaim_before_run(&self) {
        self.pending.store(false, Ordering::Release);
    }

    /// The driver's rundown this item is counted in.
    #[cfg(feature = "alloc")]
    pub(crate) fn rundown(&self) -> &'static Rundown {
        self.rundown
    }

    /// Releases the flush protection of one finished run.
    ///
    /// # Safety
    ///
    /// A queued run acquired it and has returned.
    #[cfg(feature = "alloc")]
    pub(crate) unsafe fn release_flush(&self) {
        // SAFETY: the caller's contract.
        unsafe { self.flush.release() }
    }

    /// Releases both protections of one finished run, rundown last.
    ///
    /// # Safety
    ///
    /// As for [`release_flush`](Self::release_flush).
    pub(crate) unsafe fn release_after_run(&self) {
        // SAFETY: the caller's contract: this run's claim acquired both.
        unsafe {
            self.flush.release();
            self.rundown.release();
        }
    }
}

impl<R: ExRoutineRef> core::fmt::Debug for ReusableExWorkItem<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReusableExWorkItem")
            .field("routine", &core::any::type_name::<R>())
            .field("pending", &self.is_pending())
            .finish_non_exhaustive()
    }
}
