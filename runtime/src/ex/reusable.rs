//! The reusable Ex item: queued many times, never twice at once; its routines
//! clear the pending flag before the body and release its protections after.

use crate::sync::{AtomicBool, Ordering, UnsafeCell};
use core::ffi::c_void;

use super::ExRoutineRef;
use crate::error::NotQueued;
use crate::guard::guard;
use crate::held;
use crate::irql::{AtMostDispatch, AtPassive, Passive, verify};
use crate::rundown::{Drain, Rundown};
use crate::{Routine, SharedContext, WorkQueue, ffi};

/// A reusable Ex work item: queued many times, never more than once at a time.
///
/// For an item that lives in a `static` or is shared by an `Arc`. The kernel
/// keeps the item's `WORK_QUEUE_ITEM` in its queue and ntwork touches its
/// protections at DISPATCH_LEVEL, so the item must be in nonpaged memory: a
/// driver's statics are (unless the driver puts them in a pageable
/// section), and an `Arc` is when the driver's global allocator allocates
/// nonpaged pool (wdk-alloc does). A paged item is a page fault at
/// DISPATCH_LEVEL (bug check 0xA or 0xD1), or Driver Verifier's 0xC4/0x131. Queueing
/// while pending returns [`NotQueued::AlreadyQueued`] instead of the kernel's
/// bug check `0xE4`. The pending flag clears before the routine runs, so the
/// routine may queue its own item again (kernel and KMDF semantics).
/// [`flush`](Self::flush) waits until the item is neither queued nor running.
/// Every queue is counted in the item's [`Rundown`].
///
/// ```
/// use ntwork::irql::Passive;
/// use ntwork::{DriverObject, NotQueued, ReusableExWorkItem, Rundown, WorkQueue, work_item};
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
/// # let host_driver = exec.load_driver("tick.sys");
/// # let driver = DriverObject::of(&host_driver);
/// let irql = Passive::on_host(); // a driver's: `unsafe { Passive::assume() }` in DriverEntry
/// # driver.set_unload(|_, _| {}, &irql).unwrap();
/// WORK.open(driver, &irql).unwrap(); // DriverEntry, after `set_unload`
/// TICK.queue_static(WorkQueue::Delayed, &irql).unwrap();
/// assert_eq!(TICK.queue_static(WorkQueue::Delayed, &irql), Err(NotQueued::AlreadyQueued));
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
// (and then by the kernel); the context is shared with the worker thread, and
// every item has a `Sync` one: `new`, the only constructor, requires
// `SharedContext` (`Send + Sync`). Unconditional, so that a context that is
// not `Sync` is one error, at `new`, not also at the `static` and the queue.
unsafe impl<R: Routine> Sync for ReusableExWorkItem<R> {}
// SAFETY: moving the item moves its context; the raw item is unqueued whenever
// the item can be moved (queueing needs `&'static` or an `Arc` clone).
unsafe impl<R: Routine> Send for ReusableExWorkItem<R> {}

impl<R: Routine> ReusableExWorkItem<R> {
    /// An unqueued item counted in `rundown`; `const`, so it can be a `static`.
    #[cfg(not(loom))]
    pub const fn new(rundown: &'static Rundown, context: R::Context) -> Self
    where
        R: ExRoutineRef,
        R::Context: SharedContext,
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
        R::Context: SharedContext,
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
    /// The routine borrows the context on a worker thread while other threads
    /// may hold `&self`: the context is `Sync` (`new` requires it).
    pub fn queue_static(
        &'static self,
        queue: WorkQueue,
        irql: &impl AtMostDispatch,
    ) -> Result<(), NotQueued> {
        verify(irql, "ReusableExWorkItem::queue_static");
        self.claim()?;
        // SAFETY: `claim` made this thread the only writer; `'static` keeps
        // the memory alive for as long as the kernel may use it.
        unsafe {
            self.submit(
                ex_reusable_static::<R>,
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
    pub fn queue(
        self: &alloc::sync::Arc<Self>,
        queue: WorkQueue,
        irql: &impl AtMostDispatch,
    ) -> Result<(), NotQueued> {
        verify(irql, "ReusableExWorkItem::queue");
        self.claim()?;
        let parameter = alloc::sync::Arc::into_raw(alloc::sync::Arc::clone(self)).cast_mut();
        // SAFETY: `claim` made this thread the only writer; the leaked strong
        // reference is taken back exactly once by `ex_reusable_arc`.
        unsafe { self.submit(ex_reusable_arc::<R>, parameter.cast(), queue) };
        Ok(())
    }

    /// Waits until the item is neither queued nor running. While it waits the
    /// item refuses new work ([`NotQueued::Flushing`]), so a routine that
    /// requeues itself stops. `PASSIVE_LEVEL`; not from the item's own routine
    /// (it would wait for itself).
    pub fn flush(&self, irql: &impl AtPassive) {
        verify(irql, "ReusableExWorkItem::flush");
        // Still counted only after a host stop: the item then stays closed.
        if self.flush.wait() {
            self.flush.reopen();
        }
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
            return Err(if self.rundown.refused_as_unopened() {
                NotQueued::NotOpen
            } else {
                NotQueued::Unloading
            });
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
        parameter: *mut c_void,
        queue: WorkQueue,
    ) {
        let item = self.item.with_mut(|item| {
            // SAFETY: the caller holds the claim, so no other thread writes
            // the item and the kernel has dequeued any earlier submission;
            // `routine` takes `parameter`, valid until it has run (the
            // contract).
            unsafe { ffi::ExInitializeWorkItem(item, Some(routine), parameter) };
            item
        });
        // SAFETY: the item was initialized just above and is not queued (the
        // claim); it lives in `self`, valid until the routine has run (the
        // contract), and nonpaged as the driver's statics and global
        // allocator are. From this call on, only the kernel touches it.
        unsafe { ffi::ExQueueWorkItem(item, queue.as_raw()) };
    }

    /// What a run of this item holds: its flush protection and its rundown.
    pub(crate) fn drains(&self) -> [Option<usize>; 2] {
        [Some(self.flush.held()), Some(self.rundown.drain().held())]
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
        // SAFETY: the claim of a queued run that has returned acquired the
        // flush protection, given up here, once (the contract).
        unsafe { self.flush.release() }
    }

    /// Releases both protections of one finished run, rundown last.
    ///
    /// # Safety
    ///
    /// A queued run acquired them (its claim) and has returned.
    pub(crate) unsafe fn release_after_run(&self) {
        // SAFETY: the finished run's claim acquired the flush protection
        // (the contract); given up here, once.
        unsafe { self.flush.release() };
        // SAFETY: the finished run's claim also acquired the driver's
        // rundown; given up here, once, last.
        unsafe { self.rundown.release() };
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

/// `WORKER_THREAD_ROUTINE` of a `&'static ReusableExWorkItem<R>`.
///
/// # Safety
///
/// `parameter` is a `&'static ReusableExWorkItem<R>` whose claim was queued.
pub(crate) unsafe extern "system" fn ex_reusable_static<R: ExRoutineRef>(parameter: *mut c_void) {
    // SAFETY: `parameter` is a `&'static ReusableExWorkItem<R>` (this
    // routine's contract): live forever, and only shared.
    let item = unsafe { &*parameter.cast::<ReusableExWorkItem<R>>() };
    item.unclaim_before_run();
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    held::running(item.drains(), || {
        guard(|| R::run_ref(item.context(), &mut irql))
    });
    // SAFETY: the claim this run consumes acquired both.
    unsafe { item.release_after_run() };
}

/// `WORKER_THREAD_ROUTINE` of an `Arc<ReusableExWorkItem<R>>`.
///
/// # Safety
///
/// `parameter` is a strong reference leaked by `ReusableExWorkItem::queue`,
/// whose claim was queued.
#[cfg(feature = "alloc")]
pub(crate) unsafe extern "system" fn ex_reusable_arc<R: ExRoutineRef>(parameter: *mut c_void) {
    // SAFETY: the leaked reference is taken back here, once.
    let item = unsafe {
        alloc::sync::Arc::from_raw(parameter.cast_const().cast::<ReusableExWorkItem<R>>())
    };
    item.unclaim_before_run();
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    held::running(item.drains(), || {
        guard(|| R::run_ref(item.context(), &mut irql))
    });
    let rundown = item.rundown();
    // SAFETY: the claim acquired the item's flush protection.
    unsafe { item.release_flush() };
    // The last reference may go here: its drop runs the context's destructor,
    // driver code, so it stays inside the guard and inside the rundown.
    guard(move || drop(item));
    // SAFETY: the claim acquired the driver's rundown; released last.
    unsafe { rundown.release() };
}
