//! The Ex path: `ExQueueWorkItem`, for work not associated with any device object.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::error::{AllocError, AlreadyQueued};
use crate::{WorkQueue, ffi, pool};

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
    note = "a device-bound routine must go through IoQueueWorkItem: use `ntwork::IoWorkItem<{Self}>` or `{Self}::queue(device, context, queue)`",
    note = "Ex routines are made with `#[work_item]` on `fn(context)`, `fn(&context)` or `fn()`"
)]
pub trait ExRoutine: Sized + 'static {
    /// What the routine receives; it crosses to a system worker thread.
    type Context: Send + 'static;

    /// Runs the routine on a worker thread at `PASSIVE_LEVEL`, consuming the context.
    fn run(context: Self::Context);
}

/// An Ex routine that only borrows its context, so a [`ReusableExWorkItem`] can
/// run it many times. `#[work_item]` implements it for `fn(&context)` and `fn()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run from a reusable Ex work item",
    label = "not an Ex routine that borrows its context",
    note = "a reusable item runs its routine many times, so the routine must borrow its context: declare it as `fn(context: &T)` (or `fn()`), or use the one-shot `ntwork::ExWorkItem`",
    note = "a device-bound routine must go through IoQueueWorkItem: use `ntwork::IoWorkItem<{Self}>`"
)]
pub trait ExRoutineRef: ExRoutine {
    /// Runs the routine with a shared reference to the item's context.
    fn run_ref(context: &Self::Context);
}

/// One pool block: the kernel's item, then the context.
///
/// `repr(C)` with `item` first, so the block's address is the item's address.
#[repr(C)]
struct ExBlock<C> {
    item: ffi::WORK_QUEUE_ITEM,
    context: ManuallyDrop<C>,
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
/// use ntwork::{ExWorkItem, WorkQueue, work_item};
///
/// #[work_item]
/// fn flush_log(lines: Vec<String>) {
///     assert_eq!(lines.len(), 2);
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let item: ExWorkItem<flush_log> = flush_log::new(vec!["a".into(), "b".into()]).unwrap();
/// item.queue(WorkQueue::Delayed);
/// assert_eq!(exec.run_until_idle(), 1);
/// ```
///
/// # Invariants
///
/// `block` is a live pool allocation owned by this value alone, with `item`
/// initialized by `ExInitializeWorkItem` (not queued) and `context` initialized.
pub struct ExWorkItem<R: ExRoutine> {
    block: NonNull<ExBlock<R::Context>>,
}

// SAFETY: the item uniquely owns its block; moving it moves only a `Context`,
// which is `Send`.
unsafe impl<R: ExRoutine> Send for ExWorkItem<R> {}
// SAFETY: `&ExWorkItem` only gives `&Context`; the raw item is never touched
// through a shared reference.
unsafe impl<R: ExRoutine> Sync for ExWorkItem<R> where R::Context: Sync {}

impl<R: ExRoutine> ExWorkItem<R> {
    /// Allocates the item with its context. On low resources the context comes
    /// back inside the error.
    pub fn new(context: R::Context) -> Result<Self, AllocError<R::Context>> {
        let Some(block) = pool::allocate_for::<ExBlock<R::Context>>() else {
            return Err(AllocError(context));
        };
        let raw = block.as_ptr();
        // SAFETY: `block` is a fresh allocation for an `ExBlock`; the fields are
        // written in place before anything reads them.
        unsafe {
            (&raw mut (*raw).context).write(ManuallyDrop::new(context));
            (&raw mut (*raw).item).write(ffi::WORK_QUEUE_ITEM::new());
            ffi::ExInitializeWorkItem(
                &raw mut (*raw).item,
                Some(ex_block_routine::<R>),
                raw.cast(),
            );
        }
        Ok(Self { block })
    }

    /// Hands the item to the system worker threads of `queue`. It runs once, at
    /// `PASSIVE_LEVEL`, and is freed by ntwork.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn queue(self, queue: WorkQueue) {
        let raw = ManuallyDrop::new(self).block.as_ptr();
        // SAFETY: by the invariants the item is initialized and not queued; the
        // block now belongs to the queue, and `ex_block_routine` takes it back.
        unsafe { ffi::ExQueueWorkItem(&raw mut (*raw).item, queue.as_raw()) }
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
            let context = ManuallyDrop::into_inner(block.as_ptr().read().context);
            pool::free_for(block);
            context
        }
    }
}

impl<R: ExRoutine> Drop for ExWorkItem<R> {
    fn drop(&mut self) {
        // SAFETY: by the invariants the context is live and the block unqueued;
        // both are released once, here.
        unsafe {
            ManuallyDrop::drop(&mut (*self.block.as_ptr()).context);
            pool::free_for(self.block);
        }
    }
}

impl<R: ExRoutine> core::fmt::Debug for ExWorkItem<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExWorkItem")
            .field("routine", &core::any::type_name::<R>())
            .finish_non_exhaustive()
    }
}

/// The worker routine of every [`ExWorkItem<R>`]: `Parameter` is its block.
///
/// # Safety
///
/// `parameter` is the block of an `ExWorkItem<R>` that was queued and has just
/// been dequeued by a worker thread.
unsafe extern "system" fn ex_block_routine<R: ExRoutine>(parameter: *mut c_void) {
    let block = parameter.cast::<ExBlock<R::Context>>();
    // SAFETY: the queue owned the block since `queue`; ownership comes back here
    // once. The worker has dequeued the item, so freeing it now is allowed.
    let context = unsafe {
        let context = ManuallyDrop::into_inner(block.read().context);
        pool::free_for(NonNull::new_unchecked(block));
        context
    };
    crate::__private::guard(|| R::run(context));
}

/// A reusable Ex work item: queued many times, never more than once at a time.
///
/// For an item that lives in a `static` or is shared by an `Arc` (a device
/// extension, say). Queueing while pending returns [`AlreadyQueued`] instead of
/// the kernel's bug check `0xE4`. The pending flag clears before the routine
/// runs, so the routine may queue its own item again (kernel and KMDF semantics).
///
/// ```
/// use ntwork::{ReusableExWorkItem, WorkQueue, work_item};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// #[work_item]
/// fn tick(count: &AtomicU32) {
///     count.fetch_add(1, Ordering::Relaxed);
/// }
///
/// static TICK: ReusableExWorkItem<tick> = ReusableExWorkItem::new(AtomicU32::new(0));
///
/// let exec = ntwork_host::Executive::manual();
/// TICK.queue_static(WorkQueue::Delayed).unwrap();
/// assert!(TICK.queue_static(WorkQueue::Delayed).is_err()); // still pending
/// exec.run_until_idle();
/// assert_eq!(TICK.context().load(Ordering::Relaxed), 1);
/// ```
///
/// # Invariants
///
/// `pending` is true from a successful `try_claim` until the trampoline has
/// taken the item back; while it is true nothing but the kernel touches `item`.
pub struct ReusableExWorkItem<R: ExRoutineRef> {
    item: UnsafeCell<ffi::WORK_QUEUE_ITEM>,
    pending: AtomicBool,
    context: R::Context,
}

// SAFETY: the raw item is only written by the one thread that won `pending`
// (and then by the kernel); the context is shared with the worker thread, so it
// must be `Sync` as well as `Send`.
unsafe impl<R: ExRoutineRef> Sync for ReusableExWorkItem<R> where R::Context: Sync {}
// SAFETY: moving the item moves its context; the raw item is unqueued whenever
// the item can be moved (queueing needs `&'static` or an `Arc` clone).
unsafe impl<R: ExRoutineRef> Send for ReusableExWorkItem<R> {}

impl<R: ExRoutineRef> ReusableExWorkItem<R> {
    /// An unqueued item; `const`, so it can be a `static`.
    pub const fn new(context: R::Context) -> Self {
        Self {
            item: UnsafeCell::new(ffi::WORK_QUEUE_ITEM::new()),
            pending: AtomicBool::new(false),
            context,
        }
    }

    /// The context the routine borrows.
    pub fn context(&self) -> &R::Context {
        &self.context
    }

    /// Whether the item is queued and its routine has not started yet.
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Queues an item that lives forever (a `static`, or leaked memory).
    ///
    /// The routine borrows the context on a worker thread while other threads may
    /// hold `&self`, hence `Context: Sync`.
    pub fn queue_static(&'static self, queue: WorkQueue) -> Result<(), AlreadyQueued>
    where
        R::Context: Sync,
    {
        self.claim()?;
        // SAFETY: `claim` made this thread the only writer; `'static` keeps
        // the memory alive for as long as the kernel may use it.
        unsafe {
            self.submit(
                reusable_static_routine::<R>,
                (self as *const Self).cast_mut(),
                queue,
            )
        };
        Ok(())
    }

    /// Queues an item shared by an `Arc`; the queue holds one strong reference
    /// until the routine has run, so the memory outlives the kernel's use of it.
    #[cfg(target_has_atomic = "ptr")]
    pub fn queue(self: &alloc::sync::Arc<Self>, queue: WorkQueue) -> Result<(), AlreadyQueued>
    where
        R::Context: Sync,
    {
        self.claim()?;
        let parameter = alloc::sync::Arc::into_raw(alloc::sync::Arc::clone(self)).cast_mut();
        // SAFETY: `claim` made this thread the only writer; the leaked strong
        // reference is taken back exactly once by `reusable_arc_routine`.
        unsafe { self.submit(reusable_arc_routine::<R>, parameter, queue) };
        Ok(())
    }

    fn claim(&self) -> Result<(), AlreadyQueued> {
        self.pending
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(drop)
            .map_err(|_| AlreadyQueued)
    }

    /// # Safety
    ///
    /// The caller won `claim`, and `parameter` (which is `self`) stays valid
    /// until `routine` has run.
    unsafe fn submit(
        &self,
        routine: ffi::WORKER_THREAD_ROUTINE,
        parameter: *mut Self,
        queue: WorkQueue,
    ) {
        let item = self.item.get();
        // SAFETY: the caller holds the claim, so no other thread writes the item
        // and the kernel has dequeued any earlier submission.
        unsafe {
            ffi::ExInitializeWorkItem(item, Some(routine), parameter.cast());
            ffi::ExQueueWorkItem(item, queue.as_raw());
        }
    }

    /// Runs the routine for a claim the kernel has just handed back.
    fn run_claimed(&self, routine: usize) {
        // Clear first so the routine may queue this item again.
        self.pending.store(false, Ordering::Release);
        let _ = routine;
        crate::__private::guard(|| R::run_ref(&self.context));
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

/// # Safety
///
/// `parameter` is a `&'static ReusableExWorkItem<R>` whose claim was queued.
unsafe extern "system" fn reusable_static_routine<R: ExRoutineRef>(parameter: *mut c_void) {
    // SAFETY: see the function's contract.
    let item = unsafe { &*parameter.cast::<ReusableExWorkItem<R>>() };
    item.run_claimed(reusable_static_routine::<R> as *const () as usize);
}

/// # Safety
///
/// `parameter` is a strong reference leaked by `ReusableExWorkItem::queue`.
#[cfg(target_has_atomic = "ptr")]
unsafe extern "system" fn reusable_arc_routine<R: ExRoutineRef>(parameter: *mut c_void) {
    // SAFETY: the leaked reference is taken back here, once.
    let item = unsafe {
        alloc::sync::Arc::from_raw(parameter.cast_const().cast::<ReusableExWorkItem<R>>())
    };
    item.run_claimed(reusable_arc_routine::<R> as *const () as usize);
}
