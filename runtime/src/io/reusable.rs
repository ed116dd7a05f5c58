//! The reusable Io item: one `IO_WORKITEM` queued many times, never twice at
//! once, and the routine that runs it.

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};
use core::borrow::Borrow;
use core::ffi::c_void;
use core::fmt;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use super::IoRoutineWithoutItem;
use crate::error::{AllocError, NotQueued, Refused};
use crate::guard::guard;
use crate::held;
use crate::irql::{AtMostDispatch, AtPassive, Passive, verify};
use crate::objects::IoObject;
use crate::rundown::Drain;
use crate::{Routine, WorkQueue, ffi, pool};

const QUEUED: usize = 1;
const DROPPED: usize = 2;
/// The running count lives above the two flags.
const RUNNING: usize = 4;

/// The pool block of a [`ReusableIoWorkItem`]: its `IO_WORKITEM`, its state,
/// its flush protection and the slot for the one queued context.
///
/// # Invariants
///
/// `state` holds `QUEUED` from a successful claim until the trampoline takes
/// the context, `DROPPED` once the owner dropped the item, and `RUNNING` times
/// the runs in progress. The slot holds a context exactly while `QUEUED`. The
/// block is freed by whoever sees it `DROPPED` with nothing queued or running.
pub(crate) struct ReusableIoBlock<C> {
    raw: NonNull<ffi::IO_WORKITEM>,
    state: AtomicUsize,
    flush: Drain,
    context: UnsafeCell<MaybeUninit<C>>,
}

impl<C> ReusableIoBlock<C> {
    /// The flush protection a run holds.
    ///
    /// # Safety
    ///
    /// `block` is live for `'a`.
    pub(crate) unsafe fn flush_drain<'a>(block: *mut Self) -> &'a Drain {
        // SAFETY: `block` is live for `'a` (the contract), so its `flush`, an
        // atomic protocol, may be shared for `'a`.
        unsafe { &(*block).flush }
    }

    /// Takes the queued context and marks one run in progress.
    ///
    /// # Safety
    ///
    /// `block` is live and queued; called once per queueing, by its routine.
    pub(crate) unsafe fn start_run(block: *mut Self) -> C {
        // SAFETY: a live block for the call (the caller's contract).
        let block = unsafe { &*block };
        let context = block.context.with_mut(|slot| {
            // SAFETY: `slot` is the live block's slot (`with_mut`); it is only
            // read.
            let slot = unsafe { &*slot };
            // SAFETY: the slot holds the context while QUEUED, and only this
            // run reads it (the contract).
            unsafe { slot.assume_init_read() }
        });
        // QUEUED -> one more RUNNING: the item may be queued again from now on.
        block.state.fetch_add(RUNNING - QUEUED, Ordering::AcqRel);
        context
    }

    /// Ends a run: releases its flush protection, and frees the block if the
    /// owner dropped it and this was the last thing using it.
    ///
    /// # Safety
    ///
    /// `block` is live, with a run started by [`start_run`](Self::start_run)
    /// that has returned; called once per run.
    pub(crate) unsafe fn finish_run(block: *mut Self) {
        // SAFETY: the run keeps the block alive (RUNNING) until the
        // `fetch_sub` below; the reference is not used after it.
        let live = unsafe { &*block };
        // SAFETY: the run holds one flush acquisition, given up here.
        unsafe { live.flush.release() };
        let old = live.state.fetch_sub(RUNNING, Ordering::AcqRel);
        if old == DROPPED | RUNNING {
            // SAFETY: `block` is live (the contract), so not null.
            let block = unsafe { NonNull::new_unchecked(block) };
            // SAFETY: dropped, nothing queued, and this was the last run: no
            // one else uses the block.
            unsafe { Self::free(block) };
        }
    }

    /// # Safety
    ///
    /// The block is live, unqueued, not running, and used by no one else.
    unsafe fn free(block: NonNull<Self>) {
        // SAFETY: the block is live (the contract); only its `raw` field is
        // read.
        let raw = unsafe { block.as_ref() }.raw;
        // SAFETY: the item came from `IoAllocateWorkItem`, is not queued, and
        // no one uses it any more (the caller's contract).
        unsafe { ffi::IoFreeWorkItem(raw.as_ptr()) };
        // SAFETY: the block came from `allocate_for`, and no one uses it.
        unsafe { pool::free_for(block) };
    }
}

/// A reusable Io work item: the C pattern of one `IO_WORKITEM` kept in a device
/// extension and queued many times, without `Mutex<Option<IoWorkItem>>`.
///
/// Queueing while pending returns [`NotQueued::AlreadyQueued`] (with the context
/// back) instead of bug check 0xE4. The flag clears before the routine runs, so
/// the routine may queue the item again. [`flush`](Self::flush) waits until it
/// is neither queued nor running: call it at stop or surprise removal before
/// freeing what the routine uses. The item holds a counted reference on its
/// object (so a device with one item has the creator's reference and the
/// item's, plus one per queued run). The routine reaches the state that holds
/// the item in one of two ways: in a typed device extension
/// ([`Device<E>`](crate::Device), the C layout), through the device it is
/// given (`device.extension::<E>(irql)`), with a context of `()`; or through
/// its own context, an `Arc` of that state, as below.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ntwork::irql::{Dispatch, Passive};
/// use ntwork::{DeviceObject, NotQueued, ReusableIoWorkItem, WorkQueue, work_item};
///
/// /// What AddDevice sets up for each device: the state and its work item.
/// struct Port {
///     rescan: ReusableIoWorkItem<rescan>,
///     changes: AtomicU32,
///     scans: AtomicU32,
/// }
///
/// #[work_item(device)]
/// fn rescan(_device: &DeviceObject, port: Arc<Port>) {
///     port.changes.store(0, Ordering::SeqCst);
///     port.scans.fetch_add(1, Ordering::SeqCst);
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let driver = exec.load_driver("port.sys");
/// let host_device = driver.create_device();
/// let device = DeviceObject::of(&host_device);
/// let irql = Passive::on_host(); // AddDevice and stop run at PASSIVE_LEVEL
/// let port = Arc::new(Port {
///     rescan: ReusableIoWorkItem::new(device, &irql).unwrap(),
///     changes: AtomicU32::new(0),
///     scans: AtomicU32::new(0),
/// });
///
/// // The DPC, at DISPATCH_LEVEL: coalesce while a rescan is pending. It may
/// // queue; it may not flush (`flush` takes a `Passive` proof only).
/// fn dpc(port: &Arc<Port>, irql: &Dispatch<'_>) {
///     port.changes.fetch_add(1, Ordering::SeqCst);
///     match port.rescan.queue(Arc::clone(port), WorkQueue::Delayed, irql) {
///         Ok(()) => {}
///         Err(refused) => assert_eq!(refused.reason, NotQueued::AlreadyQueued),
///     }
/// }
/// for _ in 0..3 {
///     ntwork_host::at_dispatch_level(|| dpc(&port, &Dispatch::on_host()));
/// }
/// exec.run_until_idle();
/// port.rescan.flush(&irql); // at stop: nothing queued or running after this
/// assert_eq!(port.scans.load(Ordering::SeqCst), 1);
/// ```
///
/// # Invariants
///
/// `block` is a live `ReusableIoBlock` made for `object`, owned by this value
/// until it is dropped (then by its last run). `object` is the routine's
/// `R::Object`, on which this value owns one reference.
#[must_use = "a reusable Io work item does nothing until it is queued; dropping it frees it"]
pub struct ReusableIoWorkItem<R: Routine> {
    block: NonNull<ReusableIoBlock<R::Context>>,
    object: NonNull<c_void>,
}

// SAFETY: contexts are `Send` and move to the worker; the block's shared state
// is atomic or written only by the thread that won the QUEUED claim.
unsafe impl<R: Routine> Send for ReusableIoWorkItem<R> {}
// SAFETY: `&self` methods only claim the block atomically, write the slot as
// the claim's winner, or wait on the flush protection; the context they take
// moves to the worker, and is `Send`.
unsafe impl<R: Routine> Sync for ReusableIoWorkItem<R> {}

impl<R: Routine> ReusableIoWorkItem<R> {
    /// `IoAllocateWorkItem` for `object`, with the item's state; `Err` on low
    /// resources. Takes a counted reference on `object` (kept until the item
    /// drops).
    ///
    /// `object` is the routine's object (`O`), borrowed or counted:
    /// `&DeviceObject` or `&ARef<DeviceObject>`. The role bound is here, not
    /// on the type, so an item made for an Ex routine, or for one that takes
    /// its own item, is one error, at this call.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn new<O, B>(object: &B, irql: &impl AtMostDispatch) -> Result<Self, AllocError>
    where
        R: IoRoutineWithoutItem<Object = O>,
        O: IoObject,
        B: Borrow<O> + ?Sized,
    {
        verify(irql, "ReusableIoWorkItem::new");
        let object: &O = object.borrow();
        let block = pool::allocate_for::<ReusableIoBlock<R::Context>>().ok_or(AllocError(()))?;
        // SAFETY: `object` is a live object of this driver (a borrow of one).
        let raw = unsafe { ffi::IoAllocateWorkItem(object.as_io_object().cast()) };
        let Some(raw) = NonNull::new(raw) else {
            // SAFETY: just allocated, holds nothing.
            unsafe { pool::free_for(block) };
            return Err(AllocError(()));
        };
        // SAFETY: a fresh block for one `ReusableIoBlock`.
        unsafe {
            block.as_ptr().write(ReusableIoBlock {
                raw,
                state: AtomicUsize::new(0),
                flush: Drain::new(),
                context: UnsafeCell::new(MaybeUninit::uninit()),
            })
        };
        object.inc_ref();
        // INVARIANT: a fresh block made for `object`, and the reference taken
        // above.
        Ok(Self {
            block,
            object: NonNull::from(object).cast(),
        })
    }
}

impl<R: IoRoutineWithoutItem> ReusableIoWorkItem<R> {
    /// The object the item is bound to.
    pub fn object(&self) -> &R::Object {
        // SAFETY: by the invariants `object` is an `R::Object` we hold a
        // reference on, so it is live while `self` is.
        unsafe { self.object.cast::<R::Object>().as_ref() }
    }

    /// Whether the item is queued and its routine has not started yet. Not a
    /// drain signal (it turns false before the routine runs): use
    /// [`flush`](Self::flush).
    pub fn is_pending(&self) -> bool {
        self.block().state.load(Ordering::Acquire) & QUEUED != 0
    }

    /// Queues the item with `context` (`IoQueueWorkItemEx`), unless it is
    /// already queued or being flushed; then the context comes back.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn queue(
        &self,
        context: R::Context,
        queue: WorkQueue,
        irql: &impl AtMostDispatch,
    ) -> Result<(), Refused<R::Context>> {
        verify(irql, "ReusableIoWorkItem::queue");
        let block = self.block();
        if block.state.fetch_or(QUEUED, Ordering::AcqRel) & QUEUED != 0 {
            return Err(Refused {
                reason: NotQueued::AlreadyQueued,
                context,
            });
        }
        if !block.flush.acquire() {
            block.state.fetch_and(!QUEUED, Ordering::AcqRel);
            return Err(Refused {
                reason: NotQueued::Flushing,
                context,
            });
        }
        block.context.with_mut(|slot| {
            // SAFETY: this thread set QUEUED, so it alone writes the slot (of
            // the live block) until the routine takes it.
            unsafe { (*slot).write(context) };
        });
        // SAFETY: the item is unqueued (the last run's routine took it off the
        // queue before QUEUED could be set again); the object is referenced by
        // `self.object`, and by the queue once queued; `io_reusable` takes the
        // context back once from the block, which lives until its last run.
        unsafe {
            ffi::IoQueueWorkItemEx(
                block.raw.as_ptr(),
                Some(io_reusable::<R>),
                queue.as_raw(),
                self.block.as_ptr().cast(),
            );
        }
        Ok(())
    }

    /// Waits until the item is neither queued nor running. While it waits the
    /// item refuses new work ([`NotQueued::Flushing`]), so a routine that
    /// requeues itself stops. `PASSIVE_LEVEL`; not from the item's own routine
    /// (it would wait for itself).
    pub fn flush(&self, irql: &impl AtPassive) {
        verify(irql, "ReusableIoWorkItem::flush");
        // Still counted only after a host stop: the item then stays closed.
        if self.block().flush.wait() {
            self.block().flush.reopen();
        }
    }

    fn block(&self) -> &ReusableIoBlock<R::Context> {
        // SAFETY: by the invariants the block is live while we own it.
        unsafe { self.block.as_ref() }
    }
}

impl<R: Routine> Drop for ReusableIoWorkItem<R> {
    /// Frees the item now if it is idle; else its last run frees it. The
    /// object reference goes now: the queue holds its own while queued.
    fn drop(&mut self) {
        // SAFETY: by the invariants the block is live while this value is.
        let state = unsafe { &self.block.as_ref().state };
        if state.fetch_or(DROPPED, Ordering::AcqRel) == 0 {
            // SAFETY: idle, and DROPPED stops any later claim (none can happen:
            // we are the owner being dropped).
            unsafe { ReusableIoBlock::free(self.block) };
        }
        // SAFETY: the reference this value owns on its object (a device or
        // driver object, both released with `ObfDereferenceObject`, as
        // `dec_ref` does), given up once.
        unsafe { ffi::ObfDereferenceObject(self.object.as_ptr()) };
    }
}

impl<R: IoRoutineWithoutItem> fmt::Debug for ReusableIoWorkItem<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReusableIoWorkItem")
            .field("routine", &core::any::type_name::<R>())
            .field("pending", &self.is_pending())
            .finish_non_exhaustive()
    }
}

/// `IO_WORKITEM_ROUTINE_EX` of [`ReusableIoWorkItem<R>`](crate::ReusableIoWorkItem).
///
/// # Safety
///
/// Called by the kernel for an item queued by `ReusableIoWorkItem::<R>::queue`:
/// `context` is its live `ReusableIoBlock`, its slot holding the queued
/// context, and `io_object` the item's object, referenced by the queue until
/// this returns.
pub(crate) unsafe extern "system" fn io_reusable<R: IoRoutineWithoutItem>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    let _ = item;
    let block = context.cast::<ReusableIoBlock<R::Context>>();
    // SAFETY: `io_object` is the item's object, an `R::Object` (the item was
    // made for `R`), referenced by the queue until this returns (this
    // routine's contract).
    let object = unsafe { R::Object::from_io_object(io_object) };
    // SAFETY: `block` is the live, queued block (this routine's contract),
    // and this is the one run of that queueing: `start_run` takes the context
    // the queueing call stored and marks the item running.
    let context = unsafe { ReusableIoBlock::start_run(block) };
    // SAFETY: the block lives until `finish_run`.
    let held = [
        Some(unsafe { ReusableIoBlock::flush_drain(block) }.held()),
        None,
    ];
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    held::running(held, || {
        guard(|| R::run_without_item(object, context, &mut irql))
    });
    // SAFETY: the run started above ends here, once.
    unsafe { ReusableIoBlock::finish_run(block) };
}
