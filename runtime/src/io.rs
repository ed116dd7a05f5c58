//! The Io path: `IoAllocateWorkItem` / `IoQueueWorkItemEx` / `IoFreeWorkItem`.
//! The queue references the item's object (a device, or the driver object)
//! until the routine has returned, and so keeps the driver image loaded.

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};
use core::alloc::Layout;
use core::borrow::Borrow;
use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::NonNull;

use crate::error::{AllocError, NotQueued, Refused};
use crate::objects::{AlwaysRefCounted, IoObject};
use crate::rundown::Drain;
use crate::{Routine, WorkQueue, ffi, pool, trampolines};

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
    fn run(object: &Self::Object, context: Self::Context, item: RunningIoWorkItem<'_, Self>);
}

/// An Io routine that leaves its work item to its owner (declared without the
/// item parameter). Such a routine can run from a [`ReusableIoWorkItem`], and
/// through the raw protocol (`ROUTINE_EX`, and for device routines the classic
/// `IoQueueWorkItem` routine).
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes its own work item, so it cannot run from an item someone else owns",
    label = "takes its own work item",
    note = "a `ReusableIoWorkItem` stays with its owner: declare the routine without the item parameter, `fn(object, context)`, and reach the reusable item through the context (an `Arc` of the state that holds it)"
)]
pub trait IoRoutineWithoutItem: IoRoutine {
    /// Runs the routine on a worker thread at `PASSIVE_LEVEL`.
    fn run_without_item(object: &Self::Object, context: Self::Context);

    /// The `IO_WORKITEM_ROUTINE_EX` of the raw protocol, for callers that
    /// queue their own item with `IoQueueWorkItemEx`: `Context` must come from
    /// [`raw::into_parameter`](crate::raw::into_parameter) with a
    /// `Self::Context`, and the item **must come from `IoAllocateWorkItem`**
    /// for the object: the routine takes both over, runs, and then frees the
    /// item with `IoFreeWorkItem`.
    const ROUTINE_EX: ffi::IO_WORKITEM_ROUTINE_EX = trampolines::io_raw_ex::<Self>;
}

/// One pool block per Io item: the `IO_WORKITEM` (from `IoAllocateWorkItem`, or
/// embedded after the header), the object it is bound to, and the context slot.
/// The block's address is the `Context` the kernel passes back.
///
/// # Invariants
///
/// `embedded` is right from allocation on. `raw` and `object` are written
/// when an [`IoWorkItem`] owns the block; a one-shot block's are written only
/// if its routine keeps it (until then the kernel passes both to the routine).
#[repr(C)]
pub(crate) struct IoBlock<C> {
    raw: NonNull<ffi::IO_WORKITEM>,
    object: *mut c_void,
    /// Whether the `IO_WORKITEM` is embedded in the block (its layout is
    /// then `embedded_layout::<Self>()`); false when it came from
    /// `IoAllocateWorkItem`. A flag, not the layout, keeps the block small.
    embedded: bool,
    context: MaybeUninit<C>,
}

impl<C> IoBlock<C> {
    /// A block for `object` with an unqueued `IO_WORKITEM` and an empty slot,
    /// and that item; the header written (`raw`, `object`) if `owned`.
    fn allocate(
        object: *mut c_void,
        embedded: bool,
        owned: bool,
    ) -> Option<(NonNull<Self>, NonNull<ffi::IO_WORKITEM>)> {
        if embedded {
            let (layout, offset) = embedded_layout::<Self>()?;
            let block = pool::allocate(layout)?;
            // SAFETY: `offset + IoSizeofWorkItem()` lies inside the block, at a
            // 16-byte aligned address, as `IoInitializeWorkItem` requires;
            // `object` is a live object of this driver (the callers' borrow).
            let raw = unsafe {
                let raw = block.add(offset).cast::<ffi::IO_WORKITEM>();
                ffi::IoInitializeWorkItem(object, raw.as_ptr());
                raw
            };
            let block = block.cast::<Self>();
            // SAFETY: a fresh block large enough for `Self`.
            unsafe { block.as_ptr().write(Self::header(raw, object, true)) };
            return Some((block, raw));
        }
        let block = pool::allocate_for::<Self>()?;
        // SAFETY: `object` is a live device or driver object of this driver.
        let raw = unsafe { ffi::IoAllocateWorkItem(object.cast()) };
        let Some(raw) = NonNull::new(raw) else {
            // SAFETY: just allocated, holds nothing.
            unsafe { pool::free_for(block) };
            return None;
        };
        if owned {
            // SAFETY: a fresh block for one `Self`, ours.
            unsafe { Self::write_header(block, raw, object) };
        }
        // A zeroed block (`pool::allocate`): `embedded` is already false and
        // the slot empty.
        Some((block, raw))
    }

    /// Records the item and its object in the header, for an owner.
    ///
    /// # Safety
    ///
    /// The block is live and not shared; `raw` is its item, `object` the
    /// item's object.
    unsafe fn write_header(
        block: NonNull<Self>,
        raw: NonNull<ffi::IO_WORKITEM>,
        object: *mut c_void,
    ) {
        let header = block.as_ptr();
        // SAFETY: the caller's contract; the fields are written in place,
        // the slot is left alone.
        unsafe {
            (&raw mut (*header).raw).write(raw);
            (&raw mut (*header).object).write(object);
        }
    }

    const fn header(raw: NonNull<ffi::IO_WORKITEM>, object: *mut c_void, embedded: bool) -> Self {
        Self {
            raw,
            object,
            embedded,
            context: MaybeUninit::uninit(),
        }
    }

    /// Stores the context and queues the item `raw` with `IoQueueWorkItemEx`.
    ///
    /// # Safety
    ///
    /// The block is live, unqueued and owned by the caller, its slot empty;
    /// `raw` is its item; its object is live; ownership of the block passes to
    /// the queue.
    unsafe fn queue<R: IoRoutine<Context = C>>(
        block: NonNull<Self>,
        raw: NonNull<ffi::IO_WORKITEM>,
        context: C,
        queue: WorkQueue,
    ) {
        let block = block.as_ptr();
        // SAFETY: the caller's contract; `io_block::<R>` takes the context and
        // the block back exactly once.
        unsafe {
            (*block).context.write(context);
            ffi::IoQueueWorkItemEx(
                raw.as_ptr(),
                Some(trampolines::io_block::<R>),
                queue.as_raw(),
                block.cast(),
            );
        }
    }

    /// As [`queue`](Self::queue), with `IoTryQueueWorkItem`: the context comes
    /// back if the item was not queued (and the block stays the caller's).
    ///
    /// # Safety
    ///
    /// As for [`queue`](Self::queue); ownership of the block passes to the
    /// queue only on `Ok`.
    unsafe fn try_queue<R: IoRoutine<Context = C>>(
        block: NonNull<Self>,
        raw: NonNull<ffi::IO_WORKITEM>,
        context: C,
        queue: WorkQueue,
    ) -> Result<(), C> {
        let block = block.as_ptr();
        // SAFETY: the caller's contract; on success `io_block::<R>` takes the
        // context and the block back exactly once.
        let queued = unsafe {
            (*block).context.write(context);
            ffi::IoTryQueueWorkItem(
                raw.as_ptr(),
                Some(trampolines::io_block::<R>),
                queue.as_raw(),
                block.cast(),
            )
        };
        if queued == 0 {
            // SAFETY: not queued, so the context in the slot is ours again.
            return Err(unsafe { Self::take_context(block) });
        }
        Ok(())
    }

    /// Takes the context out of the slot.
    ///
    /// # Safety
    ///
    /// The block is live and its slot holds a context, read only this once.
    pub(crate) unsafe fn take_context(block: *mut Self) -> C {
        // SAFETY: the caller's contract.
        unsafe { (*block).context.assume_init_read() }
    }

    /// Frees the `IO_WORKITEM` `raw` (the way it was made) and the block.
    ///
    /// # Safety
    ///
    /// The block is live, unqueued and owned by the caller, its slot empty;
    /// `raw` is its item; neither is used again.
    unsafe fn free(block: NonNull<Self>, raw: NonNull<ffi::IO_WORKITEM>) {
        // SAFETY: the caller's contract; the flag is read before the block is
        // freed.
        unsafe {
            let embedded = (*block.as_ptr()).embedded;
            if !embedded {
                ffi::IoFreeWorkItem(raw.as_ptr());
                pool::free_for(block);
                return;
            }
            ffi::IoUninitializeWorkItem(raw.as_ptr());
            // The layout `allocate` used: `IoSizeofWorkItem` does not change
            // while the system runs, so it is `Some` again.
            if let Some((layout, _)) = embedded_layout::<Self>() {
                pool::free(block.cast(), layout);
            }
        }
    }
}

/// The block with an embedded `IO_WORKITEM` after the header `H`, and the
/// item's offset; `None` if it would overflow.
fn embedded_layout<H>() -> Option<(Layout, usize)> {
    // SAFETY: `IoSizeofWorkItem` has no preconditions and is callable at any IRQL.
    let size = unsafe { ffi::IoSizeofWorkItem() } as usize;
    // 16 is MEMORY_ALLOCATION_ALIGNMENT on 64-bit Windows, what pool gives an IO_WORKITEM.
    let item = Layout::from_size_align(size.max(1), 16).ok()?;
    let (layout, offset) = Layout::new::<H>().extend(item).ok()?;
    Some((layout.pad_to_align(), offset))
}

/// A routine's own work item during its call, lent by the trampoline.
///
/// Dropped, it is freed (`IoFreeWorkItem`, or `IoUninitializeWorkItem` and the
/// pool block) after the routine's body. [`queue`](Self::queue) requeues it
/// without taking a reference (the queue takes its own). [`keep`](Self::keep)
/// makes it an owned [`IoWorkItem`], which takes a counted reference on the
/// object so it can outlive the call.
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
///     } // else `item` drops here: IoFreeWorkItem, after the body
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let driver = exec.load_driver("poll.sys");
/// let host_device = driver.create_device();
/// // SAFETY: a device this driver created and has not deleted.
/// let device = unsafe { DeviceObject::from_raw(host_device.as_raw()) };
/// poll::queue(device, 2, WorkQueue::Delayed).unwrap();
/// assert_eq!(exec.run_until_idle(), 3);
/// assert_eq!(exec.io_work_items_outstanding(), 0);
/// ```
///
/// # Invariants
///
/// `block` is live, unqueued, its slot empty, owned by this value; `raw` is
/// its `IO_WORKITEM`; `object` is the item's object, an `R::Object` alive for
/// `'a`.
///
/// The type needs only `R: Routine` (its methods need `IoRoutine`), so naming
/// it in a routine of another role is the attribute's one error, not also a
/// failed bound in the signature.
pub struct RunningIoWorkItem<'a, R: Routine> {
    block: NonNull<IoBlock<R::Context>>,
    raw: NonNull<ffi::IO_WORKITEM>,
    object: *mut c_void,
    _object: PhantomData<&'a ()>,
}

impl<'a, R: IoRoutine> RunningIoWorkItem<'a, R> {
    /// # Safety
    ///
    /// As the type's invariants.
    pub(crate) unsafe fn new(
        block: NonNull<IoBlock<R::Context>>,
        raw: NonNull<ffi::IO_WORKITEM>,
        object: &'a R::Object,
    ) -> Self {
        Self {
            block,
            raw,
            object: object.as_io_object(),
            _object: PhantomData,
        }
    }

    /// The object the item is bound to.
    pub fn object(&self) -> &'a R::Object {
        // SAFETY: by the invariants `object` is an `R::Object` alive for `'a`.
        unsafe { R::Object::from_io_object(self.object) }
    }

    /// Queues the item again with `context` (`IoQueueWorkItemEx`).
    pub fn queue(self, context: R::Context, queue: WorkQueue) {
        let this = ManuallyDrop::new(self);
        // SAFETY: by the invariants the block is ours and unqueued, `raw` its
        // item, and the object is alive for this call; the queue references
        // it from here on.
        unsafe { IoBlock::queue::<R>(this.block, this.raw, context, queue) }
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
        // SAFETY: by the invariants the block is ours and unqueued, `raw` its
        // item, and the object is alive for this call.
        match unsafe { IoBlock::try_queue::<R>(self.block, self.raw, context, queue) } {
            Ok(()) => {
                // The queue owns the block now.
                core::mem::forget(self);
                Ok(())
            }
            Err(context) => Err((self, context)),
        }
    }

    /// Keeps the item beyond the call: an owned [`IoWorkItem`] holding a
    /// counted reference on the object (`ObfReferenceObject`).
    pub fn keep(self) -> IoWorkItem<R> {
        let this = ManuallyDrop::new(self);
        this.object().inc_ref();
        // SAFETY: by the invariants the block is ours alone, `raw` its item and
        // `object` the item's object.
        unsafe { IoBlock::write_header(this.block, this.raw, this.object) };
        // INVARIANT: the block is ours and unqueued with its header written,
        // and the new item owns the reference taken above.
        IoWorkItem {
            block: this.block,
            _routine: PhantomData,
        }
    }
}

impl<R: Routine> Drop for RunningIoWorkItem<'_, R> {
    fn drop(&mut self) {
        // SAFETY: by the invariants the block is ours, unqueued and empty, and
        // `raw` is its item.
        unsafe { IoBlock::free(self.block, self.raw) }
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
/// use ntwork::{DeviceObject, IoWorkItem, WorkQueue, work_item};
///
/// /// Polls the device, then requeues itself until `left` runs out.
/// #[work_item(device)]
/// fn poll(device: &DeviceObject, left: u32, item: IoWorkItem<poll>) {
///     if left > 0 {
///         item.queue(left - 1, WorkQueue::Delayed);
///     } // else `item` drops here: IoFreeWorkItem, inside its own routine
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let driver = exec.load_driver("poll.sys");
/// let host_device = driver.create_device();
/// // SAFETY: a device this driver created and has not deleted.
/// let device = unsafe { DeviceObject::from_raw(host_device.as_raw()) };
///
/// let item = poll::new(device).expect("IoAllocateWorkItem");
/// item.queue(2, WorkQueue::Delayed);
/// assert_eq!(exec.run_until_idle(), 3);
/// assert_eq!(host_device.reference_count(), 1);
/// ```
///
/// # Invariants
///
/// `block` is live and owned by this value alone, its header written, its
/// `IO_WORKITEM` initialized and unqueued, its slot empty; this value owns one
/// reference on the block's object, which is an `R::Object`.
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
    pub fn new<O, B>(object: &B) -> Result<Self, AllocError>
    where
        R: IoRoutine<Object = O>,
        B: Borrow<O> + ?Sized,
    {
        Self::make(object.borrow(), false)
    }

    /// One pool block holding the `IO_WORKITEM` (sized by `IoSizeofWorkItem`)
    /// and the context slot, initialized with `IoInitializeWorkItem`.
    pub fn new_embedded<O, B>(object: &B) -> Result<Self, AllocError>
    where
        R: IoRoutine<Object = O>,
        B: Borrow<O> + ?Sized,
    {
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
        // SAFETY: the caller's contract: a non-null block from `into_raw`.
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
        // SAFETY: by the invariants the block is live and we hold a reference
        // on its object, an `R::Object` of this driver.
        unsafe { R::Object::from_io_object(self.block.as_ref().object) }
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
    /// [`ReusableIoWorkItem`] instead.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn queue(self, context: R::Context, queue: WorkQueue) {
        let this = ManuallyDrop::new(self);
        let object = this.object_ptr();
        // SAFETY: by the invariants the block is ours and unqueued and the
        // object is alive (we hold a reference until after the call).
        unsafe { IoBlock::queue::<R>(this.block, this.raw(), context, queue) };
        // The queue holds its own reference now.
        // SAFETY: the reference this item owned, given up once.
        unsafe { R::Object::dec_ref(object) };
    }

    /// As [`queue`](Self::queue), with `IoTryQueueWorkItem` (Windows 8): when
    /// no worker can start the item now, nothing is queued and the item and the
    /// context come back. That is an ordinary outcome under load.
    pub fn try_queue(self, context: R::Context, queue: WorkQueue) -> Result<(), TryQueueError<R>> {
        // SAFETY: by the invariants the block is ours and unqueued, the slot
        // empty, `raw` its item, the object alive.
        let tried = unsafe { IoBlock::try_queue::<R>(self.block, self.raw(), context, queue) };
        if let Err(context) = tried {
            return Err(TryQueueError {
                item: self,
                context,
            });
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: queued; the reference this item owned is given up once.
        unsafe { R::Object::dec_ref(this.object_ptr()) };
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
        let (raw, object) = unsafe { (self.block.as_ref().raw, self.block.as_ref().object) };
        // SAFETY: by the invariants the block is ours and unqueued, `raw` its
        // item, and we own one reference on the object (a device or driver
        // object, both released with `ObfDereferenceObject`, as `dec_ref`
        // does); both are released once, here.
        unsafe {
            IoBlock::free(self.block, raw);
            ffi::ObfDereferenceObject(object);
        }
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

/// The one-shot Io queue behind `name::queue(object, context, queue)`: no
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
    unsafe { IoBlock::queue::<R>(block, raw, context, queue) };
    Ok(())
}

/// The one-shot Io queue of a routine that does not take its item: the C
/// shape exactly. `IoAllocateWorkItem`, the context alone in pool (none for a
/// zero-sized one), `IoQueueWorkItemEx` with the raw-protocol routine, which
/// frees the context before the body and the item after it. The kernel passes
/// the object and the item back, so the block needs no header.
pub(crate) fn queue_once_without_item<R: IoRoutineWithoutItem>(
    object: &R::Object,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    // SAFETY: `object` is a live device or driver object of this driver (the
    // caller's borrow), as `IoAllocateWorkItem` requires.
    let raw = unsafe { ffi::IoAllocateWorkItem(object.as_io_object().cast()) };
    if raw.is_null() {
        return Err(AllocError(context));
    }
    let parameter = match crate::raw::into_parameter(context) {
        Ok(parameter) => parameter,
        Err(error) => {
            // SAFETY: just allocated, never queued.
            unsafe { ffi::IoFreeWorkItem(raw) };
            return Err(error);
        }
    };
    // SAFETY: a fresh, unqueued item of `object`, alive for this call (the
    // queue references it from here on); `io_raw_ex::<R>` takes the
    // parameter back once and frees the item, which came from
    // `IoAllocateWorkItem`.
    unsafe {
        ffi::IoQueueWorkItemEx(
            raw,
            Some(trampolines::io_raw_ex::<R>),
            queue.as_raw(),
            parameter,
        );
    }
    Ok(())
}

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
        // SAFETY: the caller's contract.
        unsafe { &(*block).flush }
    }

    /// Takes the queued context and marks one run in progress.
    ///
    /// # Safety
    ///
    /// `block` is live and queued; called once per queueing, by its routine.
    pub(crate) unsafe fn start_run(block: *mut Self) -> C {
        // SAFETY: the caller's contract: the slot holds the context while
        // QUEUED, and only this run reads it.
        unsafe {
            let context = (*block).context.with_mut(|slot| (*slot).assume_init_read());
            // QUEUED -> one more RUNNING: the item may be queued again from now on.
            (*block).state.fetch_add(RUNNING - QUEUED, Ordering::AcqRel);
            context
        }
    }

    /// Ends a run: releases its flush protection, and frees the block if the
    /// owner dropped it and this was the last thing using it.
    ///
    /// # Safety
    ///
    /// `block` is live, with a run started by [`start_run`](Self::start_run)
    /// that has returned; called once per run.
    pub(crate) unsafe fn finish_run(block: *mut Self) {
        // SAFETY: the run holds a flush acquisition and keeps the block alive
        // (RUNNING) until the `fetch_sub` below.
        let old = unsafe {
            (*block).flush.release();
            (*block).state.fetch_sub(RUNNING, Ordering::AcqRel)
        };
        if old == DROPPED | RUNNING {
            // SAFETY: dropped, nothing queued, and this was the last run.
            unsafe { Self::free(NonNull::new_unchecked(block)) };
        }
    }

    /// # Safety
    ///
    /// The block is live, unqueued, not running, and used by no one else.
    unsafe fn free(block: NonNull<Self>) {
        // SAFETY: the caller's contract; the item was allocated by
        // `IoAllocateWorkItem` and is not queued.
        unsafe {
            ffi::IoFreeWorkItem(block.as_ref().raw.as_ptr());
            pool::free_for(block);
        }
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
/// object; the routine reaches the state that holds the item through its own
/// context, typically an `Arc` of that state.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
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
/// // SAFETY: a device this driver created; it outlives `port`.
/// let device = unsafe { DeviceObject::from_raw(host_device.as_raw()) };
/// let port = Arc::new(Port {
///     rescan: ReusableIoWorkItem::new(device).unwrap(),
///     changes: AtomicU32::new(0),
///     scans: AtomicU32::new(0),
/// });
///
/// // From the DPC, at DISPATCH_LEVEL: coalesce while a rescan is pending.
/// for _ in 0..3 {
///     port.changes.fetch_add(1, Ordering::SeqCst);
///     match port.rescan.queue(Arc::clone(&port), WorkQueue::Delayed) {
///         Ok(()) => {}
///         Err(refused) => assert_eq!(refused.reason, NotQueued::AlreadyQueued),
///     }
/// }
/// exec.run_until_idle();
/// port.rescan.flush(); // at stop: nothing queued or running after this
/// assert_eq!(port.scans.load(Ordering::SeqCst), 1);
/// ```
///
/// # Invariants
///
/// `block` is a live `ReusableIoBlock` made for `object`, owned by this value
/// until it is dropped (then by its last run). `object` is the routine's
/// `R::Object`, on which this value owns one reference.
pub struct ReusableIoWorkItem<R: Routine> {
    block: NonNull<ReusableIoBlock<R::Context>>,
    object: NonNull<c_void>,
}

// SAFETY: contexts are `Send` and move to the worker; the block's shared state
// is atomic or written only by the thread that won the QUEUED claim.
unsafe impl<R: Routine> Send for ReusableIoWorkItem<R> {}
// SAFETY: as for `Send`: `&self` methods only claim atomically, or wait.
unsafe impl<R: Routine> Sync for ReusableIoWorkItem<R> {}

impl<R: Routine> ReusableIoWorkItem<R> {
    /// `IoAllocateWorkItem` for `object`, with the item's state; `Err` on low
    /// resources. Takes a counted reference on `object`.
    ///
    /// `object` is the routine's object (`O`), borrowed or counted:
    /// `&DeviceObject` or `&ARef<DeviceObject>`. The role bound is here, not
    /// on the type, so an item made for an Ex routine, or for one that takes
    /// its own item, is one error, at this call.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn new<O, B>(object: &B) -> Result<Self, AllocError>
    where
        R: IoRoutineWithoutItem<Object = O>,
        O: IoObject,
        B: Borrow<O> + ?Sized,
    {
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
    pub fn queue(&self, context: R::Context, queue: WorkQueue) -> Result<(), Refused<R::Context>> {
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
        // SAFETY: this thread set QUEUED, so it alone writes the slot until the
        // routine takes it; the item is unqueued (the last run's routine took
        // it off the queue before QUEUED could be set again); the object is
        // referenced by `self.object`, and by the queue once queued.
        unsafe {
            block.context.with_mut(|slot| (*slot).write(context));
            ffi::IoQueueWorkItemEx(
                block.raw.as_ptr(),
                Some(trampolines::io_reusable::<R>),
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
    pub fn flush(&self) {
        self.block().flush.wait();
        self.block().flush.reopen();
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
