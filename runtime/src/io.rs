//! The Io path: `IoAllocateWorkItem` / `IoQueueWorkItemEx` / `IoFreeWorkItem`,
//! which keeps the device object (and so the driver) alive until the routine
//! has run.

use core::alloc::Layout;
use core::ffi::c_void;
use core::fmt;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::error::AllocError;
use crate::{WorkQueue, ffi, pool};

/// A device object, as the Io path's routines receive it.
///
/// A handle over `PDEVICE_OBJECT`. Pointers from other bindings go in with a
/// plain cast: `wdk-sys` (`*mut wdk_sys::DEVICE_OBJECT`) and `windows-sys`
/// (`*mut windows_sys::Wdk::Foundation::DEVICE_OBJECT`) alike.
///
/// ```
/// use windows_sys::Wdk::Foundation::DEVICE_OBJECT;
///
/// # let exec = ntwork_host::Executive::manual();
/// # let driver = exec.load_driver("cast.sys");
/// # let host_device = driver.create_device();
/// // What an AddDevice or dispatch routine declared with windows-sys receives:
/// let from_binding: *mut DEVICE_OBJECT = host_device.as_raw().cast();
///
/// // SAFETY: the device object stays valid while the handle is used.
/// let device = unsafe { ntwork::DeviceObject::from_raw(from_binding.cast()) };
/// assert_eq!(device.as_raw().cast(), from_binding);
/// ```
///
/// # Invariants
///
/// `raw` points to a live device object for as long as this handle exists.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceObject {
    raw: NonNull<ffi::DEVICE_OBJECT>,
}

// SAFETY: a DEVICE_OBJECT may be used from any thread; ntwork only passes the
// pointer to kernel functions that accept it at any IRQL <= DISPATCH_LEVEL.
unsafe impl Send for DeviceObject {}
// SAFETY: as for `Send`; the handle has no interior state.
unsafe impl Sync for DeviceObject {}

impl DeviceObject {
    /// Wraps a device object pointer.
    ///
    /// # Safety
    ///
    /// `raw` is non-null and points to a device object that stays valid (not
    /// deleted with `IoDeleteDevice`) for as long as this handle or any clone of
    /// it exists. A pointer the kernel passed to a dispatch routine, AddDevice, or
    /// a work routine qualifies for the duration of that call; a driver that
    /// created the device qualifies until it deletes it.
    pub unsafe fn from_raw(raw: ffi::PDEVICE_OBJECT) -> Self {
        debug_assert!(!raw.is_null(), "DeviceObject::from_raw(NULL)");
        // SAFETY: the caller guarantees `raw` is non-null.
        let raw = unsafe { NonNull::new_unchecked(raw) };
        Self { raw }
    }

    /// The raw pointer, for other kernel calls.
    pub fn as_raw(&self) -> ffi::PDEVICE_OBJECT {
        self.raw.as_ptr()
    }
}

impl fmt::Debug for DeviceObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DeviceObject").field(&self.raw).finish()
    }
}

/// A device-bound routine, queued only through the Io path.
///
/// `#[work_item(device)]` implements it for `fn(&DeviceObject, context)` and for
/// `fn(&DeviceObject, context, IoWorkItem<Self>)`. The routine receives its work
/// item back (`IoQueueWorkItemEx` semantics): dropping it frees it, queueing it
/// again reuses it. A routine that does not take the item has it freed after it
/// returns.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a device-bound routine, so it cannot be queued with IoQueueWorkItem",
    label = "not an Io routine",
    note = "device-bound routines are made with `#[work_item(device)]` on `fn(device: &DeviceObject, context)`",
    note = "work not associated with a device object goes on the Ex path: `ntwork::ExWorkItem<{Self}>`"
)]
pub trait IoRoutine: Sized + 'static {
    /// What the routine receives; it crosses to a system worker thread.
    type Context: Send + 'static;

    /// Runs the routine on a worker thread at `PASSIVE_LEVEL`. The device object
    /// is referenced until it returns.
    fn run(device: &DeviceObject, context: Self::Context, item: IoWorkItem<Self>);
}

/// How an [`IoWorkItem`]'s memory is held.
#[derive(Clone, Copy)]
enum Storage {
    /// From `IoAllocateWorkItem`; the context slot is its own pool block.
    Allocated,
    /// One pool block: the `IO_WORKITEM` (`IoSizeofWorkItem` bytes), then the
    /// context slot after it.
    Embedded { block: Layout },
}

/// An owned Io work item for routine `R`, bound to one device object.
///
/// Made with [`new`](Self::new) (`IoAllocateWorkItem`, plus a pool slot for
/// the context) or [`new_embedded`](Self::new_embedded) (one pool block holding
/// both, with `IoInitializeWorkItem`). Either way queueing cannot fail:
/// everything it needs was allocated up front. [`queue`](Self::queue) moves the
/// item into the kernel; the routine gets it back. Dropping an unqueued item
/// frees it (`IoFreeWorkItem`, or `IoUninitializeWorkItem` and the pool block).
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
/// let device = driver.create_device();
///
/// let item = poll::new(&unsafe { ntwork::DeviceObject::from_raw(device.as_raw()) }).expect("IoAllocateWorkItem");
/// item.queue(2, WorkQueue::Delayed);
/// assert_eq!(device.reference_count(), 1); // held while the work is pending
/// assert_eq!(exec.run_until_idle(), 3);
/// assert_eq!(device.reference_count(), 0);
/// driver.unload().expect("no work pending, nothing leaked");
/// ```
///
/// # Invariants
///
/// `raw` is an initialized, unqueued `IO_WORKITEM` bound to `device`, owned by
/// this value alone; `slot` is valid for writes of one `R::Context` and holds no
/// live context; for `Storage::Embedded`, `raw` is the start of the block and
/// `slot` lies inside the block, after the item.
pub struct IoWorkItem<R: IoRoutine> {
    raw: NonNull<ffi::IO_WORKITEM>,
    slot: NonNull<R::Context>,
    device: DeviceObject,
    storage: Storage,
}

// SAFETY: the item owns its kernel object and its slot; the slot holds a
// context only while queued, and contexts are `Send`.
unsafe impl<R: IoRoutine> Send for IoWorkItem<R> {}
// SAFETY: `&IoWorkItem` exposes only the device handle, which is `Sync`.
unsafe impl<R: IoRoutine> Sync for IoWorkItem<R> {}

/// [`IoWorkItem::try_queue`] found no worker available: the item and the context
/// come back unchanged.
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
        f.write_str("no system worker thread is available now")
    }
}

impl<R: IoRoutine> core::error::Error for TryQueueError<R> {}

impl<R: IoRoutine> IoWorkItem<R> {
    /// `IoAllocateWorkItem` for `device`; `Err` when it returns `NULL` (low
    /// resources) or the context slot cannot be allocated.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn new(device: &DeviceObject) -> Result<Self, AllocError> {
        let slot = pool::allocate_for::<R::Context>().ok_or(AllocError(()))?;
        // SAFETY: the invariants of `DeviceObject` make it a live device object.
        let raw = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
        let Some(raw) = NonNull::new(raw) else {
            // SAFETY: `slot` was just allocated and is unused.
            unsafe { pool::free_for(slot) };
            return Err(AllocError(()));
        };
        Ok(Self {
            raw,
            slot,
            device: device.clone(),
            storage: Storage::Allocated,
        })
    }

    /// One pool block holding the `IO_WORKITEM` (sized by `IoSizeofWorkItem`)
    /// and the context slot, initialized with `IoInitializeWorkItem`.
    pub fn new_embedded(device: &DeviceObject) -> Result<Self, AllocError> {
        let (block, slot_offset) = embedded_layout::<R::Context>().ok_or(AllocError(()))?;
        let base = pool::allocate(block).ok_or(AllocError(()))?;
        let raw = base.cast::<ffi::IO_WORKITEM>();
        // SAFETY: `base` holds `IoSizeofWorkItem()` bytes at a 16-byte aligned
        // address, as `IoInitializeWorkItem` requires; `device` is live.
        unsafe { ffi::IoInitializeWorkItem(device.as_raw().cast(), raw.as_ptr()) };
        // SAFETY: `slot_offset + size_of::<Context>()` lies inside the block.
        let slot = unsafe { base.add(slot_offset) }.cast::<R::Context>();
        Ok(Self {
            raw,
            slot,
            device: device.clone(),
            storage: Storage::Embedded { block },
        })
    }

    /// The device object the item is bound to.
    pub fn device(&self) -> &DeviceObject {
        &self.device
    }

    /// Whether this item lives in one block with its context.
    pub fn is_embedded(&self) -> bool {
        matches!(self.storage, Storage::Embedded { .. })
    }

    /// Queues the item with `context` (`IoQueueWorkItemEx`). The device object is
    /// referenced until the routine returns; the routine receives this item back.
    ///
    /// Callable at IRQL <= `DISPATCH_LEVEL`.
    pub fn queue(self, context: R::Context, queue: WorkQueue) {
        let (raw, slot, routine) = self.hand_over(context);
        // SAFETY: `hand_over` stored the context in the slot and gave up
        // ownership; the routine takes both back exactly once.
        unsafe { ffi::IoQueueWorkItemEx(raw, Some(routine), queue.as_raw(), slot) }
    }

    /// As [`queue`](Self::queue), with `IoTryQueueWorkItem`: when no worker is
    /// available now, nothing is queued and the item and context come back.
    pub fn try_queue(self, context: R::Context, queue: WorkQueue) -> Result<(), TryQueueError<R>> {
        let (storage, io_object) = (self.storage, self.device.as_raw().cast());
        let (raw, slot, routine) = self.hand_over(context);
        // SAFETY: as in `queue`.
        let queued = unsafe { ffi::IoTryQueueWorkItem(raw, Some(routine), queue.as_raw(), slot) };
        if queued != 0 {
            return Ok(());
        }
        // SAFETY: not queued, so the item and the context in its slot are ours again.
        let (item, context) = unsafe { Self::take_back(io_object, raw, slot.cast(), storage) };
        Err(TryQueueError { item, context })
    }

    /// Moves `context` into the slot and gives up ownership of everything.
    fn hand_over(
        self,
        context: R::Context,
    ) -> (ffi::PIO_WORKITEM, *mut c_void, ffi::IO_WORKITEM_ROUTINE_EX) {
        let this = ManuallyDrop::new(self);
        // SAFETY: by the invariants the slot is writable and holds nothing live.
        unsafe { this.slot.as_ptr().write(context) };
        // `this.device` is not dropped: its clone is rebuilt from the routine's
        // IoObject, and the handle has no destructor to skip.
        let routine: ffi::IO_WORKITEM_ROUTINE_EX = match this.storage {
            Storage::Allocated => allocated_routine::<R>,
            Storage::Embedded { .. } => io_embedded_routine::<R>,
        };
        (this.raw.as_ptr(), this.slot.as_ptr().cast(), routine)
    }

    /// Rebuilds an item (and reads the context) that the kernel handed back.
    ///
    /// # Safety
    ///
    /// `raw`/`slot`/`storage` were given up by `hand_over` of an item bound to
    /// the device object `io_object`, and the slot holds the context; neither is
    /// used by anyone else afterwards.
    unsafe fn take_back(
        io_object: *mut c_void,
        raw: ffi::PIO_WORKITEM,
        slot: *mut R::Context,
        storage: Storage,
    ) -> (Self, R::Context) {
        // SAFETY: see the function's contract.
        unsafe {
            let context = slot.read();
            let item = Self {
                raw: NonNull::new_unchecked(raw),
                slot: NonNull::new_unchecked(slot),
                device: DeviceObject::from_raw(io_object.cast()),
                storage,
            };
            (item, context)
        }
    }
}

impl<R: IoRoutine> Drop for IoWorkItem<R> {
    fn drop(&mut self) {
        // SAFETY: by the invariants the item is unqueued and owned here; it is
        // released once, with the call that matches how it was made.
        unsafe {
            match self.storage {
                Storage::Allocated => {
                    ffi::IoFreeWorkItem(self.raw.as_ptr());
                    pool::free_for(self.slot);
                }
                Storage::Embedded { block, .. } => {
                    ffi::IoUninitializeWorkItem(self.raw.as_ptr());
                    pool::free(self.raw.cast(), block);
                }
            }
        }
    }
}

impl<R: IoRoutine> fmt::Debug for IoWorkItem<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoWorkItem")
            .field("routine", &core::any::type_name::<R>())
            .field("device", &self.device)
            .field("embedded", &self.is_embedded())
            .finish_non_exhaustive()
    }
}

/// The block of an embedded item and the offset of its context slot, or `None`
/// if it would overflow.
fn embedded_layout<C>() -> Option<(Layout, usize)> {
    // SAFETY: `IoSizeofWorkItem` has no preconditions and is callable at any IRQL.
    let size = unsafe { ffi::IoSizeofWorkItem() } as usize;
    // 16 is MEMORY_ALLOCATION_ALIGNMENT on 64-bit Windows, what pool gives an IO_WORKITEM.
    let item = Layout::from_size_align(size.max(1), 16).ok()?;
    let (block, slot_offset) = item.extend(Layout::new::<C>()).ok()?;
    Some((block.pad_to_align(), slot_offset))
}

/// `IO_WORKITEM_ROUTINE_EX` of items from `IoAllocateWorkItem`.
///
/// # Safety
///
/// Called by the kernel for an item queued by `IoWorkItem::<R>::queue`:
/// `context` is its slot, holding the context.
pub(crate) unsafe extern "system" fn allocated_routine<R: IoRoutine>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    // SAFETY: see the function's contract.
    let (item, ctx) =
        unsafe { IoWorkItem::<R>::take_back(io_object, item, context.cast(), Storage::Allocated) };
    run_io::<R>(allocated_routine::<R> as *const () as usize, item, ctx);
}

/// `IO_WORKITEM_ROUTINE_EX` of embedded items.
///
/// # Safety
///
/// As for `io_allocated_routine`, for an embedded item.
unsafe extern "system" fn io_embedded_routine<R: IoRoutine>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    // The same computation succeeded when the item was made.
    let Some((block, _)) = embedded_layout::<R::Context>() else {
        return;
    };
    let storage = Storage::Embedded { block };
    // SAFETY: see the function's contract.
    let (item, ctx) =
        unsafe { IoWorkItem::<R>::take_back(io_object, item, context.cast(), storage) };
    run_io::<R>(io_embedded_routine::<R> as *const () as usize, item, ctx);
}

fn run_io<R: IoRoutine>(_routine: usize, item: IoWorkItem<R>, context: R::Context) {
    let device = item.device.clone();
    crate::__private::guard(|| R::run(&device, context, item));
}
