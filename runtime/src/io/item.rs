//! The Io role ([`IoRoutine`]), the owned Io item ([`IoWorkItem`]), its lent
//! form during its routine ([`RunningIoWorkItem`]), and the routine that lends
//! it: the role's `run` takes the lent item and the lent item is made for the
//! role, so they live together.

use core::borrow::Borrow;
use core::cell::Cell;
use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use super::block::IoBlock;
use crate::error::AllocError;
use crate::guard::guard;
use crate::irql::{AtMostDispatch, Passive, verify};
use crate::objects::{AlwaysRefCounted, IoObject};
use crate::{Routine, WorkQueue, ffi};

/// A routine queued only through the Io path, bound to a device object or to
/// the driver object.
///
/// `#[work_item(device)]` / `#[work_item(driver)]` implement it for
/// `fn(&DeviceObject, context)` / `fn(&DriverObject, context)`, and for the same
/// with a last parameter `RunningIoWorkItem<'_, Self>` or `IoWorkItem<Self>`
/// (the routine gets its item back, as `IoQueueWorkItemEx` gives it: lent for
/// the call, or kept).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a device- or driver-bound routine, so it cannot be queued with IoQueueWorkItem",
    label = "not an Io routine",
    note = "Io routines are made with `#[work_item(device)]` on `fn(device: &DeviceObject, context)` or `#[work_item(driver)]` on `fn(driver: &DriverObject, context)`",
    note = "work not associated with a device object goes on the Ex path: `ntwork::ExWorkItem<{Self}>`"
)]
pub trait IoRoutine: Routine {
    /// What the item is bound to: [`DeviceObject`](crate::DeviceObject) or
    /// [`DriverObject`](crate::DriverObject).
    type Object: IoObject;

    /// Runs the routine on a worker thread at `PASSIVE_LEVEL`. The object is
    /// referenced by the queue until it returns. `item` is the routine's own
    /// work item, lent for the call: left alone it is freed after the routine;
    /// [`RunningIoWorkItem::queue`] requeues it; [`RunningIoWorkItem::keep`]
    /// makes it an owned, counted [`IoWorkItem`].
    fn run(
        object: &Self::Object,
        context: Self::Context,
        item: RunningIoWorkItem<'_, Self>,
        irql: &mut Passive<'_>,
    );
}

/// A routine's own work item during its call, lent by the trampoline.
///
/// Unless it is handed on, it is freed (`IoFreeWorkItem`, or
/// `IoUninitializeWorkItem` and the pool block) when the routine returns,
/// whether it was dropped, forgotten (`mem::forget`) or the routine panicked:
/// the trampoline that lent it frees it, so no safe code can leak it past the
/// image. [`queue`](Self::queue) hands it back to the kernel without taking a
/// reference (the queue takes its own). [`keep`](Self::keep) hands it to an
/// owned [`IoWorkItem`], which takes a counted reference on the object so it
/// can outlive the call.
///
/// A routine declared with `item: RunningIoWorkItem<'_, name>` gets it as is;
/// one declared with `item: IoWorkItem<name>` gets it kept.
///
/// ```
/// use ntwork::{DeviceObject, RunningIoWorkItem, WorkQueue, work_item};
///
/// /// Polls the device until `left` runs out, requeueing its own item: no
/// /// reference is taken beyond the queue's, as in C.
/// #[work_item(device)]
/// fn poll(device: &DeviceObject, left: u32, item: RunningIoWorkItem<'_, poll>) {
///     if left > 0 {
///         item.queue(left - 1, WorkQueue::Delayed);
///     } // else the trampoline frees it (IoFreeWorkItem) when the body returns
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let driver = exec.load_driver("poll.sys");
/// let host_device = driver.create_device();
/// let device = DeviceObject::of(&host_device);
/// poll::queue(device, 2, WorkQueue::Delayed, &ntwork::irql::Passive::on_host()).unwrap();
/// assert_eq!(exec.run_until_idle(), 3);
/// assert_eq!(exec.io_work_items_outstanding(), 0);
/// ```
///
/// # Invariants
///
/// `block` is live, unqueued, its slot empty, lent to this value by the
/// trampoline running the routine; `raw` is its `IO_WORKITEM`; `object` is the
/// item's object, an `R::Object` alive for `'a`. `handed_on` is the
/// trampoline's flag: set once the block is the kernel's or an owner's, when
/// the trampoline must not free it.
///
/// The type needs only `R: Routine` (its methods need `IoRoutine`), so naming
/// it in a routine of another role is the attribute's one error, not also a
/// failed bound in the signature.
pub struct RunningIoWorkItem<'a, R: Routine> {
    block: NonNull<IoBlock<R::Context>>,
    raw: NonNull<ffi::IO_WORKITEM>,
    object: *mut c_void,
    handed_on: &'a Cell<bool>,
}

impl<'a, R: IoRoutine> RunningIoWorkItem<'a, R> {
    /// # Safety
    ///
    /// As the type's invariants.
    unsafe fn new(
        block: NonNull<IoBlock<R::Context>>,
        raw: NonNull<ffi::IO_WORKITEM>,
        object: &'a R::Object,
        handed_on: &'a Cell<bool>,
    ) -> Self {
        Self {
            block,
            raw,
            object: object.as_io_object(),
            handed_on,
        }
    }

    /// The object the item is bound to.
    pub fn object(&self) -> &'a R::Object {
        // SAFETY: by the invariants `object` is an `R::Object` alive for `'a`.
        unsafe { R::Object::from_io_object(self.object) }
    }

    /// Queues the item again with `context` (`IoQueueWorkItemEx`).
    pub fn queue(self, context: R::Context, queue: WorkQueue) {
        self.handed_on.set(true);
        // SAFETY: by the invariants the block is lent to us and unqueued,
        // `raw` its item, and the object is alive for this call; the queue
        // references it from here on, and the trampoline no longer frees it.
        unsafe { IoBlock::queue(self.block, self.raw, io_block::<R>, context, queue) }
    }

    /// As [`queue`](Self::queue), with `IoTryQueueWorkItem` (Windows 8): when
    /// no worker can start the item now, nothing is queued and the item and
    /// the context come back (the item still lent, dropped at the end of the
    /// call unless queued or kept).
    pub fn try_queue(
        self,
        context: R::Context,
        queue: WorkQueue,
    ) -> Result<(), (Self, R::Context)> {
        // Set before the hand-over: once queued, the routine may run (and
        // free the block) before this call returns.
        self.handed_on.set(true);
        // SAFETY: by the invariants the block is lent to us and unqueued,
        // `raw` its item, and the object is alive for this call.
        match unsafe { IoBlock::try_queue(self.block, self.raw, io_block::<R>, context, queue) } {
            Ok(()) => Ok(()),
            Err(context) => {
                // Not queued: still lent, freed when the routine returns.
                self.handed_on.set(false);
                Err((self, context))
            }
        }
    }

    /// Keeps the item beyond the call: an owned [`IoWorkItem`] holding a
    /// counted reference on the object (`ObfReferenceObject`).
    pub fn keep(self) -> IoWorkItem<R> {
        self.handed_on.set(true);
        self.object().inc_ref();
        // SAFETY: by the invariants the block is lent to us alone, `raw` its
        // item and `object` the item's object.
        unsafe { IoBlock::write_header(self.block, self.raw, self.object) };
        // INVARIANT: the block is unqueued with its header written, no longer
        // the trampoline's to free, and the new item owns the reference taken
        // above.
        IoWorkItem {
            block: self.block,
            _routine: PhantomData,
        }
    }
}

impl<R: IoRoutine> fmt::Debug for RunningIoWorkItem<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningIoWorkItem")
            .field("routine", &core::any::type_name::<R>())
            .finish_non_exhaustive()
    }
}

/// An owned Io work item for routine `R`, bound to one object, holding a
/// counted reference on it: it can be kept anywhere (a device context, a
/// `static`) and never lets safe code reach a deleted object.
///
/// Made with [`new`](Self::new) (`IoAllocateWorkItem`) or
/// [`new_embedded`](Self::new_embedded) (one pool block, `IoInitializeWorkItem`).
/// Either way queueing cannot fail: everything it needs was allocated up front.
/// [`queue`](Self::queue) moves the item into the kernel; the routine gets it
/// back. Dropping an unqueued item frees it. [`into_raw`](Self::into_raw) /
/// [`from_raw`](Self::from_raw) pass it through a `PVOID` (an IRP completion
/// context) without allocating.
///
/// ```
/// use ntwork::irql::Passive;
/// use ntwork::{DeviceObject, IoWorkItem, WorkQueue, work_item};
///
/// /// Polls the device, then requeues itself until `left` runs out.
/// #[work_item(device)]
/// fn poll(device: &DeviceObject, left: u32, item: IoWorkItem<poll>, irql: &Passive<'_>) {
///     if left > 0 {
///         item.queue(left - 1, WorkQueue::Delayed, irql);
///     } // else `item` drops here: IoFreeWorkItem, inside its own routine
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let driver = exec.load_driver("poll.sys");
/// let host_device = driver.create_device();
/// let device = DeviceObject::of(&host_device);
/// let irql = Passive::on_host();
///
/// let item = poll::new(device, &irql).expect("IoAllocateWorkItem");
/// item.queue(2, WorkQueue::Delayed, &irql);
/// assert_eq!(exec.run_until_idle(), 3);
/// assert_eq!(host_device.reference_count(), 1);
/// ```
///
/// # Invariants
///
/// `block` is live and owned by this value alone, its header written, its
/// `IO_WORKITEM` initialized and unqueued, its slot empty; this value owns one
/// reference on the block's object, which is an `R::Object`.
#[must_use = "an Io work item does nothing until it is queued; dropping it frees it"]
pub struct IoWorkItem<R: Routine> {
    block: NonNull<IoBlock<R::Context>>,
    _routine: PhantomData<R>,
}

// SAFETY: the item owns its kernel object, its block and a counted reference;
// the slot holds a context only while queued, and contexts are `Send`.
unsafe impl<R: Routine> Send for IoWorkItem<R> {}
// SAFETY: `&IoWorkItem` exposes only `&R::Object`, which is `Sync`.
unsafe impl<R: Routine> Sync for IoWorkItem<R> {}

/// [`IoWorkItem::try_queue`] found no worker free to start the item now: the
/// item and the context come back unchanged.
pub struct TryQueueError<R: IoRoutine> {
    /// The item, still unqueued.
    pub item: IoWorkItem<R>,
    /// The context that was to be passed.
    pub context: R::Context,
}

impl<R: IoRoutine> fmt::Debug for TryQueueError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TryQueueError")
    }
}

impl<R: IoRoutine> fmt::Display for TryQueueError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no system worker thread can start the item now")
    }
}

impl<R: IoRoutine> core::error::Error for TryQueueError<R> {}

impl<R: IoRoutine> TryQueueError<R> {
    /// `STATUS_DEVICE_BUSY`: nothing was queued; try again later.
    pub const fn status(&self) -> ffi::NTSTATUS {
        0x8000_0011_u32 as ffi::NTSTATUS
    }
}

impl<R: IoRoutine> From<TryQueueError<R>> for ffi::NTSTATUS {
    fn from(error: TryQueueError<R>) -> Self {
        error.status()
    }
}

impl<R: Routine> IoWorkItem<R> {
    /// `IoAllocateWorkItem` for `object`, plus the context slot; `Err` on low
    /// resources. Takes a counted reference on `object`.
    ///
    /// `object` is the routine's object ([`IoRoutine::Object`], `O`),
    /// borrowed or counted: `&DeviceObject` or `&ARef<DeviceObject>`. The
    /// role bound is here, not on the type, so an item made for an Ex routine
    /// is one error, at this call.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn new<O, B>(object: &B, irql: &impl AtMostDispatch) -> Result<Self, AllocError>
    where
        R: IoRoutine<Object = O>,
        B: Borrow<O> + ?Sized,
    {
        verify(irql, "IoWorkItem::new");
        Self::make(object.borrow(), false)
    }

    /// One pool block holding the `IO_WORKITEM` (sized by `IoSizeofWorkItem`)
    /// and the context slot, initialized with `IoInitializeWorkItem`.
    pub fn new_embedded<O, B>(object: &B, irql: &impl AtMostDispatch) -> Result<Self, AllocError>
    where
        R: IoRoutine<Object = O>,
        B: Borrow<O> + ?Sized,
    {
        verify(irql, "IoWorkItem::new_embedded");
        Self::make(object.borrow(), true)
    }

    /// Takes back an item given up by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `raw` came from `IoWorkItem::<R>::into_raw` (the same `R`) and is taken
    /// back only once.
    pub unsafe fn from_raw(raw: *mut c_void) -> Self
    where
        R: IoRoutine,
    {
        // SAFETY: `raw` came from `into_raw` (the contract), which returns the
        // item's block pointer, never null.
        let block = unsafe { NonNull::new_unchecked(raw.cast()) };
        // INVARIANT: `into_raw` kept everything the invariants name.
        Self {
            block,
            _routine: PhantomData,
        }
    }
}

impl<R: IoRoutine> IoWorkItem<R> {
    fn make(object: &R::Object, embedded: bool) -> Result<Self, AllocError> {
        let (block, _) =
            IoBlock::allocate(object.as_io_object(), embedded, true).ok_or(AllocError(()))?;
        object.inc_ref();
        // INVARIANT: a fresh, unqueued block bound to `object`, its header
        // written, and the reference taken above.
        Ok(Self {
            block,
            _routine: PhantomData,
        })
    }

    /// The object the item is bound to.
    pub fn object(&self) -> &R::Object {
        // SAFETY: by the invariants the block is live, its header written.
        let object = unsafe { self.block.as_ref() }.object;
        // SAFETY: by the invariants `object` is an `R::Object` of this driver
        // on which we hold a reference, so it lives while `self` does.
        unsafe { R::Object::from_io_object(object) }
    }

    /// Whether this item lives in one block with its context.
    pub fn is_embedded(&self) -> bool {
        // SAFETY: by the invariants the block is live.
        unsafe { self.block.as_ref().embedded }
    }

    /// Queues the item with `context` (`IoQueueWorkItemEx`). The object is
    /// referenced by the queue until the routine returns; the routine receives
    /// this item back.
    ///
    /// The queue takes the item: one kept in a device extension is taken out
    /// first (`extension.retry.take()` of an `Option<IoWorkItem<_>>`, under its
    /// lock), and the routine can hand it back (`RunningIoWorkItem::keep`). For
    /// an item queued again and again from several places, use a
    /// [`ReusableIoWorkItem`](crate::ReusableIoWorkItem) instead.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn queue(self, context: R::Context, queue: WorkQueue, irql: &impl AtMostDispatch) {
        verify(irql, "IoWorkItem::queue");
        let this = ManuallyDrop::new(self);
        let object = this.object_ptr();
        // SAFETY: by the invariants the block is ours and unqueued and the
        // object is alive (we hold a reference until after the call).
        unsafe { IoBlock::queue(this.block, this.raw(), io_block::<R>, context, queue) };
        // The queue holds its own reference now.
        // SAFETY: the reference this item owned, given up once.
        unsafe { R::Object::dec_ref(object) };
    }

    /// As [`queue`](Self::queue), with `IoTryQueueWorkItem` (Windows 8): when
    /// no worker can start the item now, nothing is queued and the item and the
    /// context come back. That is an ordinary outcome under load.
    pub fn try_queue(
        self,
        context: R::Context,
        queue: WorkQueue,
        irql: &impl AtMostDispatch,
    ) -> Result<(), TryQueueError<R>> {
        verify(irql, "IoWorkItem::try_queue");
        // Read before the hand-over: once queued, the block is the routine's,
        // which may already have run and freed it when the call returns.
        let object = self.object_ptr();
        // SAFETY: by the invariants the block is ours and unqueued, the slot
        // empty, `raw` its item, the object alive.
        let tried =
            unsafe { IoBlock::try_queue(self.block, self.raw(), io_block::<R>, context, queue) };
        if let Err(context) = tried {
            return Err(TryQueueError {
                item: self,
                context,
            });
        }
        // The block is not ours any more: `self` must not read it, even to drop.
        core::mem::forget(self);
        // SAFETY: queued, and the queue holds its own reference now; the one
        // this item owned is given up once.
        unsafe { R::Object::dec_ref(object) };
        Ok(())
    }

    /// Gives up the item as one pointer, for a `PVOID` context (an IRP
    /// completion routine's). Nothing is allocated; the item, its block and its
    /// reference stay alive until [`from_raw`](Self::from_raw).
    pub fn into_raw(self) -> *mut c_void {
        ManuallyDrop::new(self).block.as_ptr().cast()
    }

    fn object_ptr(&self) -> NonNull<R::Object> {
        NonNull::from(self.object())
    }

    fn raw(&self) -> NonNull<ffi::IO_WORKITEM> {
        // SAFETY: by the invariants the block is live with its header written.
        unsafe { self.block.as_ref().raw }
    }
}

impl<R: Routine> Drop for IoWorkItem<R> {
    fn drop(&mut self) {
        // SAFETY: by the invariants the block is live with its header
        // written; read before the block is freed.
        let header = unsafe { self.block.as_ref() };
        let (raw, object) = (header.raw, header.object);
        // SAFETY: by the invariants the block is ours, unqueued, its slot
        // empty, `raw` its item; freed once, here.
        unsafe { IoBlock::free(self.block, raw) };
        // SAFETY: we own one reference on the object (the invariants), a
        // device or driver object, both released with `ObfDereferenceObject`
        // as `dec_ref` does; given up once, here.
        unsafe { ffi::ObfDereferenceObject(object) };
    }
}

impl<R: IoRoutine> fmt::Debug for IoWorkItem<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoWorkItem")
            .field("routine", &core::any::type_name::<R>())
            .field("embedded", &self.is_embedded())
            .finish_non_exhaustive()
    }
}

/// The one-shot Io queue behind `name::queue(object, context, queue, irql)`: no
/// reference is taken, because the queue references the object from the call
/// on and nothing else keeps it.
pub(crate) fn queue_once<R: IoRoutine>(
    object: &R::Object,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    // The header stays unwritten: the kernel passes the item and the object
    // to the routine, which writes them only if it keeps the item.
    let Some((block, raw)) = IoBlock::allocate(object.as_io_object(), false, false) else {
        return Err(AllocError(context));
    };
    // SAFETY: a fresh, unqueued block with its item `raw`, bound to `object`,
    // alive for this call.
    unsafe { IoBlock::queue(block, raw, io_block::<R>, context, queue) };
    Ok(())
}

/// `IO_WORKITEM_ROUTINE_EX` of [`IoWorkItem<R>`](crate::IoWorkItem) and of the
/// one-shot `queue` helper of a routine that takes its item: `context` is the
/// item's block. (A routine without its item is queued one-shot with
/// [`io_raw_ex`](super::raw::io_raw_ex), the context alone in pool.)
///
/// # Safety
///
/// Called by the kernel for an item queued by ntwork for routine `R`:
/// `context` is its [`IoBlock`] holding the context, `item` the (non-null)
/// `IO_WORKITEM` that was queued, `io_object` the object the item is bound
/// to, referenced by the queue until this returns.
pub(crate) unsafe extern "system" fn io_block<R: IoRoutine>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    let block = context.cast::<IoBlock<R::Context>>();
    let handed_on = Cell::new(false);
    // SAFETY: `io_object` is the item's object, an `R::Object` (ntwork queued
    // it for `R`), which the queue references until this returns (this
    // routine's contract).
    let object = unsafe { R::Object::from_io_object(io_object) };
    // SAFETY: `context` is the item's block, its slot holding the context
    // queued with it (this routine's contract); taken back here, once.
    let context = unsafe { IoBlock::take_context(block) };
    // SAFETY: the kernel passes back the block pointer it was queued with, a
    // non-null pool block.
    let block = unsafe { NonNull::new_unchecked(block) };
    // SAFETY: `item` is the queued `IO_WORKITEM`, non-null (the contract).
    let item = unsafe { NonNull::new_unchecked(item) };
    // SAFETY: the type's invariants: the block is live and dequeued (its
    // routine runs), its slot emptied above, lent to the routine until this
    // returns; `item` is its item and `object` its object, alive for the
    // call; `handed_on` outlives the call.
    let running = unsafe { RunningIoWorkItem::<R>::new(block, item, object, &handed_on) };
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    guard(|| R::run(object, context, running, &mut irql));
    if !handed_on.get() {
        // SAFETY: lent to the routine, which returned without handing it on
        // (dropped, forgotten, or panicked): still unqueued and ours to free,
        // once.
        unsafe { IoBlock::free(block, item) };
    }
}
