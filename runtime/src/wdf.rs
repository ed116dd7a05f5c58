//! KMDF work items (`WDFWORKITEM`), safely: a typed parent, a context the
//! framework stores and that is dropped exactly once (in the item's cleanup
//! callback), explicit serialization, `enqueue` that says whether it queued
//! or coalesced, and a callback handle that cannot `flush` (flushing from
//! inside the callback waits for itself; Driver Verifier breaks).
//!
//! ```
//! use core::sync::atomic::{AtomicU32, Ordering};
//! use ntwork::wdf::{Enqueued, Serialization, WdfDevice, WdfWorkItem};
//! use ntwork::work_item;
//!
//! #[work_item(wdf)]
//! fn drain(pending: &AtomicU32) {
//!     pending.store(0, Ordering::SeqCst);
//! }
//!
//! let exec = ntwork_host::Executive::manual();
//! let driver = exec.load_driver("kmdf.sys");
//! let host_device = driver.create_wdf_device(Default::default());
//! // SAFETY: a WDFDEVICE of this driver, used while it exists.
//! let device = unsafe { WdfDevice::from_raw(host_device.as_raw()) };
//! let item = WdfWorkItem::<drain>::create(device, AtomicU32::new(3), Serialization::None).unwrap();
//! assert_eq!(item.enqueue(), Enqueued::Queued);
//! assert_eq!(item.enqueue(), Enqueued::Coalesced);
//! exec.run_until_idle();
//! assert_eq!(item.context().load(Ordering::SeqCst), 0);
//! ```
//!
//! Facts this rests on (sources in `docs/kmdf.md`): Create and Enqueue at
//! IRQL <= DISPATCH_LEVEL, the callback and Flush at PASSIVE_LEVEL; an Enqueue
//! of an item already queued is ignored (KMDF 1.7+); deleting the parent
//! disposes the item before the parent's cleanup; `WdfObjectDelete` of the
//! item inside its own callback is allowed.

use core::ffi::CStr;
use core::fmt;
use core::marker::{PhantomData, PhantomPinned};
use core::ptr::NonNull;

use crate::Routine;
use crate::ffi::wdf::{self as wdf_ffi, WDF_OBJECT_CONTEXT_TYPE_INFO, WDFOBJECT, WDFWORKITEM};
use crate::ffi::{NTSTATUS, STATUS_SUCCESS};
use crate::guard::guard;
use crate::sync::{AtomicBool, Ordering};

/// A framework object seen through its handle: zero-sized, so a reference to
/// one asserts nothing about memory; it only carries the handle's value.
#[repr(transparent)]
struct Handle(core::cell::UnsafeCell<[u8; 0]>, PhantomPinned);

macro_rules! parent_type {
    ($(#[$doc:meta])* $name:ident, $raw:ty) => {
        $(#[$doc])*
        #[repr(transparent)]
        pub struct $name(Handle);

        // SAFETY: framework handles may be used from any thread; `&Self` only
        // carries the handle value into framework calls.
        unsafe impl Sync for $name {}
        // SAFETY: as above.
        unsafe impl Send for $name {}

        impl $name {
            /// Borrows the object behind `handle` for `'a`.
            ///
            /// # Safety
            ///
            /// `handle` is a live object of this driver, of this kind, and
            /// is not deleted during `'a` (nor being deleted: not from its
            /// own cleanup callback, when its children are already gone),
            /// nor while a [`WdfWorkItem`] created under it with this borrow
            /// is alive (deleting a parent disposes its items: drop them, or
            /// [`leave_to_parent`](WdfWorkItem::leave_to_parent), first).
            pub unsafe fn from_raw<'a>(handle: $raw) -> &'a Self {
                // SAFETY: a zero-sized type: any non-null, aligned address is
                // a valid reference; the handle is non-null by the contract.
                unsafe { &*handle.cast::<Self>() }
            }

            /// The handle.
            pub fn as_raw(&self) -> $raw {
                (self as *const Self).cast_mut().cast()
            }
        }

        impl sealed::Sealed for $name {}

        impl WdfParent for $name {
            fn as_object(&self) -> WDFOBJECT {
                self.as_raw().cast()
            }

            unsafe fn from_object<'a>(object: WDFOBJECT) -> &'a Self {
                // SAFETY: forwarded from the caller.
                unsafe { Self::from_raw(object.cast()) }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_raw()).finish()
            }
        }
    };
}

parent_type!(
    /// A `WDFDEVICE`, lent (`&WdfDevice`).
    WdfDevice,
    wdf_ffi::WDFDEVICE
);
parent_type!(
    /// A `WDFQUEUE`, lent (`&WdfQueue`).
    WdfQueue,
    wdf_ffi::WDFQUEUE
);

mod sealed {
    pub trait Sealed {}
}

/// An object a work item may have as its parent: a device, or an object whose
/// parent chain leads to one (a queue).
pub trait WdfParent: sealed::Sealed + Sync + 'static {
    /// The handle as a `WDFOBJECT`.
    fn as_object(&self) -> WDFOBJECT;

    /// Borrows the parent behind `object`.
    ///
    /// # Safety
    ///
    /// `object` is a live object of this kind, not deleted during `'a`.
    unsafe fn from_object<'a>(object: WDFOBJECT) -> &'a Self;
}

/// The context type of a routine: its `WDF_OBJECT_CONTEXT_TYPE_INFO`, which
/// points to itself as the unique type (what `WDF_DECLARE_CONTEXT_TYPE` emits).
/// `#[work_item(wdf)]` declares one per routine, as a `static`.
#[repr(transparent)]
pub struct ContextType(WDF_OBJECT_CONTEXT_TYPE_INFO);

// SAFETY: the info is immutable after construction; its pointers are to
// `'static` data (the name and the info itself).
unsafe impl Sync for ContextType {}

impl ContextType {
    /// The info for routine `R`'s context, named `name`; `this` is the static
    /// being initialized (the type's identity).
    pub const fn new<R: WdfRoutine>(name: &'static CStr, this: &'static ContextType) -> Self {
        Self(WDF_OBJECT_CONTEXT_TYPE_INFO {
            Size: size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
            ContextName: name.as_ptr(),
            ContextSize: size_of::<Slot<R::Context>>(),
            UniqueType: (this as *const ContextType).cast(),
            EvtDriverGetUniqueContextType: None,
        })
    }

    /// The type info of a parent's context space that keeps one item (its
    /// handle), named `name`; `this` is the static itself.
    pub const fn kept(name: &'static CStr, this: &'static ContextType) -> Self {
        Self(WDF_OBJECT_CONTEXT_TYPE_INFO {
            Size: size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
            ContextName: name.as_ptr(),
            ContextSize: size_of::<WDFWORKITEM>(),
            UniqueType: (this as *const ContextType).cast(),
            EvtDriverGetUniqueContextType: None,
        })
    }

    /// The raw info.
    pub fn as_raw(&'static self) -> *const WDF_OBJECT_CONTEXT_TYPE_INFO {
        &self.0
    }
}

/// A KMDF work-item routine.
///
/// `#[work_item(wdf)]` implements it for `fn(context: &C)` and
/// `fn(context: &C, item: &RunningWdfWorkItem<'_, name>)`; the parent is a
/// [`WdfDevice`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a KMDF work-item routine",
    label = "not a `#[work_item(wdf)]` routine",
    note = "KMDF routines are made with `#[work_item(wdf)]` on `fn(context: &C)`; Ex and Io routines go through `ExWorkItem` / `IoWorkItem`"
)]
pub trait WdfRoutine: Routine<Context: Sync> {
    /// What the item is created under.
    type Parent: WdfParent;

    /// The context's type info (a `static` the attribute declares).
    const CONTEXT_TYPE: &'static ContextType;

    /// The type info of the parent's context space that keeps an item of this
    /// routine ([`WdfWorkItem::keep_in_parent`]; a `static` the attribute
    /// declares).
    const KEPT_TYPE: &'static ContextType;

    /// Runs at PASSIVE_LEVEL on a system worker thread.
    fn run(item: &RunningWdfWorkItem<'_, Self>);

    /// The `EVT_WDF_WORKITEM` callback [`WdfWorkItem::create`] registers. It
    /// is valid only for items `create` made: it reads the routine's context
    /// from their context space, which `create` initializes.
    const CALLBACK: wdf_ffi::EVT_WDF_WORKITEM = wdf_work_item::<Self>;
}

/// What the item's context space holds.
///
/// # Invariants
///
/// Written by `create` right after the framework made the item, before any
/// enqueue; dropped once, by the cleanup callback.
pub(crate) struct Slot<C> {
    /// Set by `enqueue`, cleared by the callback before the routine runs.
    queued: AtomicBool,
    context: C,
}

/// Whether the callback runs under the parent's synchronization lock
/// (`WDF_WORKITEM_CONFIG::AutomaticSerialization`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serialization {
    /// TRUE: serialized with the parent's other callbacks; the parent's
    /// execution level must then be passive (else
    /// `STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL`).
    Automatic,
    /// FALSE: the callback takes no framework lock.
    None,
}

/// What [`WdfWorkItem::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// The item was queued; its callback will run.
    Queued,
    /// The item was queued already (and its callback not started): the
    /// framework ignores a second enqueue, so the pending callback must
    /// process all pending work.
    Coalesced,
}

/// `WdfWorkItemCreate` failed: the status, and the context back.
pub struct CreateError<C> {
    /// The framework's status (e.g. `STATUS_WDF_PARENT_NOT_SPECIFIED`).
    pub status: NTSTATUS,
    /// The context that was to be stored.
    pub context: C,
}

impl<C> fmt::Debug for CreateError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreateError {{ status: {:#010x} }}", self.status as u32)
    }
}

/// A KMDF work item owned by the driver; `Drop` deletes it (`WdfObjectDelete`,
/// which waits for a running callback and then drops the context).
///
/// It must not outlive its parent: deleting the parent disposes the item.
/// That is part of the parent's `from_raw` contract, not of the type (see
/// `docs/kmdf.md`, "Open").
///
/// # Invariants
///
/// `handle` is a live `WDFWORKITEM` created by [`create`](Self::create) for
/// routine `R`, whose context space holds an initialized `Slot<R::Context>`;
/// this value deletes it exactly once.
pub struct WdfWorkItem<R: Routine> {
    handle: NonNull<wdf_ffi::WDFWORKITEM__>,
    _routine: PhantomData<R>,
}

// SAFETY: the handle may be used from any thread; the context is `Send`, and
// items exist only for `WdfRoutine`s, whose contexts are also `Sync`.
unsafe impl<R: Routine> Send for WdfWorkItem<R> {}
// SAFETY: `&WdfWorkItem` gives `&Context` (`Sync` for every `WdfRoutine`, the
// only routines items are made for) and thread-safe framework calls.
unsafe impl<R: Routine> Sync for WdfWorkItem<R> {}

/// The item's slot.
///
/// # Safety
///
/// `handle` is a live item created for `R` whose slot is initialized, and
/// stays so during `'a`.
unsafe fn slot<'a, R: WdfRoutine>(handle: WDFWORKITEM) -> &'a Slot<R::Context> {
    // SAFETY: the caller's contract; the context space was allocated for
    // `R::CONTEXT_TYPE`, so the typed lookup returns it.
    unsafe {
        let space =
            wdf_ffi::WdfObjectGetTypedContextWorker(handle.cast(), R::CONTEXT_TYPE.as_raw());
        &*space.cast::<Slot<R::Context>>()
    }
}

impl<R: Routine> WdfWorkItem<R> {
    /// `WdfWorkItemCreate` under `parent`, with `context` moved into the
    /// item's context space. IRQL <= DISPATCH_LEVEL.
    ///
    /// `P` is the routine's parent type ([`WdfRoutine::Parent`]); the bound is
    /// here, not on the type, so an item made for an Ex or Io routine is one
    /// error, at this call.
    ///
    /// # Errors
    ///
    /// The framework's status, with the context back.
    pub fn create<P>(
        parent: &P,
        context: R::Context,
        serialization: Serialization,
    ) -> Result<Self, CreateError<R::Context>>
    where
        R: WdfRoutine<Parent = P>,
        P: WdfParent,
    {
        let mut config = wdf_ffi::WDF_WORKITEM_CONFIG::init(Some(R::CALLBACK));
        config.AutomaticSerialization = u8::from(serialization == Serialization::Automatic);
        let mut attributes = wdf_ffi::WDF_OBJECT_ATTRIBUTES::init();
        attributes.ParentObject = parent.as_object();
        attributes.ContextTypeInfo = R::CONTEXT_TYPE.as_raw();
        attributes.EvtCleanupCallback = Some(wdf_cleanup::<R>);
        let mut handle: WDFWORKITEM = core::ptr::null_mut();
        // SAFETY: valid config, attributes and out pointer for the call; the
        // parent is live (the borrow).
        let status =
            unsafe { wdf_ffi::WdfWorkItemCreate(&mut config, &mut attributes, &mut handle) };
        let Some(handle) = NonNull::new(handle).filter(|_| status == STATUS_SUCCESS) else {
            return Err(CreateError {
                status: if status == STATUS_SUCCESS {
                    wdf_ffi::STATUS_INSUFFICIENT_RESOURCES
                } else {
                    status
                },
                context,
            });
        };
        // SAFETY: the framework allocated `ContextSize` bytes for the type
        // (a `Slot`), zeroed and unused until this write; nothing can run the
        // cleanup or the callback before it (the item is neither enqueued
        // nor known to anyone else yet).
        unsafe {
            let space = wdf_ffi::WdfObjectGetTypedContextWorker(
                handle.as_ptr().cast(),
                R::CONTEXT_TYPE.as_raw(),
            );
            space.cast::<Slot<R::Context>>().write(Slot {
                queued: AtomicBool::new(false),
                context,
            });
        }
        Ok(Self {
            handle,
            _routine: PhantomData,
        })
    }
}

impl<R: WdfRoutine> WdfWorkItem<R> {
    /// `WdfWorkItemEnqueue`, unless the item is queued and its callback has
    /// not started: then the framework would ignore it, and this says so.
    /// IRQL <= DISPATCH_LEVEL.
    pub fn enqueue(&self) -> Enqueued {
        // SAFETY: by the invariants.
        unsafe { enqueue::<R>(self.handle.as_ptr()) }
    }

    /// `WdfWorkItemFlush`: waits until the item is neither queued nor
    /// running. PASSIVE_LEVEL. The callback's own handle has no `flush`: from
    /// inside the callback it would wait for itself.
    pub fn flush(&self) {
        // SAFETY: by the invariants; not the callback (it has no `WdfWorkItem`).
        unsafe { wdf_ffi::WdfWorkItemFlush(self.handle.as_ptr()) }
    }

    /// The context.
    pub fn context(&self) -> &R::Context {
        // SAFETY: by the invariants.
        unsafe { &slot::<R>(self.handle.as_ptr()).context }
    }

    /// The parent it was created under.
    pub fn parent(&self) -> &R::Parent {
        // SAFETY: a live item's parent outlives it, and it was created under
        // an `R::Parent`.
        unsafe { R::Parent::from_object(wdf_ffi::WdfWorkItemGetParentObject(self.handle.as_ptr())) }
    }

    /// The handle.
    pub fn as_raw(&self) -> WDFWORKITEM {
        self.handle.as_ptr()
    }

    /// Gives up ownership without deleting: the framework disposes the item
    /// (and drops its context) when it deletes the parent. To reach the item
    /// again later (from the DPC, the I/O path), use
    /// [`keep_in_parent`](Self::keep_in_parent) instead.
    pub fn leave_to_parent(self) {
        core::mem::forget(self);
    }

    /// Leaves the item to its parent, as [`leave_to_parent`](Self::leave_to_parent),
    /// and records it in the parent's own context space, where
    /// [`WdfWorkItemRef::kept`] finds it again through a borrow of the parent:
    /// the C pattern of the `WDFWORKITEM` kept in the device context. One
    /// item per routine per parent.
    ///
    /// # Errors
    ///
    /// The item back with the framework's status: `STATUS_OBJECT_NAME_EXISTS`
    /// if the parent keeps an item of this routine already,
    /// `STATUS_INSUFFICIENT_RESOURCES`, or `STATUS_DELETE_PENDING`.
    pub fn keep_in_parent(self) -> Result<(), KeepError<R>> {
        let handle = self.handle.as_ptr();
        // SAFETY: by the invariants the item is live (we own it).
        let parent = unsafe { wdf_ffi::WdfWorkItemGetParentObject(handle) };
        let mut attributes = wdf_ffi::WDF_OBJECT_ATTRIBUTES::init();
        attributes.ContextTypeInfo = R::KEPT_TYPE.as_raw();
        let mut slot: *mut core::ffi::c_void = core::ptr::null_mut();
        // SAFETY: the parent lives at least as long as its live child; valid
        // attributes (a type, no parent) and out pointer.
        let status =
            unsafe { wdf_ffi::WdfObjectAllocateContext(parent, &mut attributes, &mut slot) };
        if status != STATUS_SUCCESS || slot.is_null() {
            return Err(KeepError { status, item: self });
        }
        // SAFETY: fresh context space of `R::KEPT_TYPE`, sized for one handle.
        unsafe { slot.cast::<WDFWORKITEM>().write(handle) };
        // INVARIANT (of `WdfWorkItemRef::kept`): from here the framework alone
        // deletes the item, with its parent.
        core::mem::forget(self);
        Ok(())
    }
}

/// # Safety
///
/// `handle` is a live item of `R` with an initialized slot.
unsafe fn enqueue<R: WdfRoutine>(handle: WDFWORKITEM) -> Enqueued {
    // SAFETY: the caller's contract.
    let slot = unsafe { slot::<R>(handle) };
    if slot.queued.swap(true, Ordering::AcqRel) {
        return Enqueued::Coalesced;
    }
    // SAFETY: a live item.
    unsafe { wdf_ffi::WdfWorkItemEnqueue(handle) };
    Enqueued::Queued
}

impl<R: Routine> Drop for WdfWorkItem<R> {
    fn drop(&mut self) {
        // SAFETY: by the invariants, deleted once, here; the cleanup callback
        // drops the context.
        unsafe { wdf_ffi::WdfObjectDelete(self.handle.as_ptr().cast()) }
    }
}

impl<R: Routine> fmt::Debug for WdfWorkItem<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WdfWorkItem").field(&self.handle).finish()
    }
}

/// [`WdfWorkItem::keep_in_parent`] failed: the framework's status, and the
/// item back, still owned.
pub struct KeepError<R: Routine> {
    /// `STATUS_OBJECT_NAME_EXISTS` (the parent keeps an item of this routine
    /// already), `STATUS_INSUFFICIENT_RESOURCES` or `STATUS_DELETE_PENDING`.
    pub status: NTSTATUS,
    /// The item, unchanged.
    pub item: WdfWorkItem<R>,
}

impl<R: Routine> fmt::Debug for KeepError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeepError")
            .field("status", &format_args!("{:#010x}", self.status))
            .finish_non_exhaustive()
    }
}

/// An item its parent keeps ([`WdfWorkItem::keep_in_parent`]), reached
/// through a borrow of that parent ([`kept`](Self::kept)): what an owned
/// [`WdfWorkItem`] offers, without the delete.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// use ntwork::wdf::{Enqueued, Serialization, WdfDevice, WdfWorkItemRef};
/// use ntwork::work_item;
///
/// #[work_item(wdf)]
/// fn drain(pending: &AtomicU32) {
///     pending.store(0, Ordering::SeqCst);
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let driver = exec.load_driver("kmdf.sys");
/// let host_device = driver.create_wdf_device(Default::default());
/// // SAFETY: a WDFDEVICE of this driver, used while it exists.
/// let device = unsafe { WdfDevice::from_raw(host_device.as_raw()) };
/// // EvtDriverDeviceAdd: create the item under the device, kept by it.
/// drain::create(device, AtomicU32::new(0), Serialization::None)
///     .unwrap()
///     .keep_in_parent()
///     .unwrap();
/// // Later, from the DPC, with the device the framework passes in:
/// let item = WdfWorkItemRef::<drain>::kept(device).expect("kept by this device");
/// item.context().fetch_add(1, Ordering::SeqCst);
/// assert_eq!(item.enqueue(), Enqueued::Queued);
/// assert_eq!(exec.run_until_idle(), 1);
/// host_device.delete(); // the framework disposes the item with its device
/// ```
///
/// # Invariants
///
/// `handle` is a live item of `R` whose parent is borrowed for `'p`; the
/// framework deletes it only with that parent.
pub struct WdfWorkItemRef<'p, R: Routine> {
    handle: NonNull<wdf_ffi::WDFWORKITEM__>,
    _parent: PhantomData<&'p ()>,
    _routine: PhantomData<fn() -> R>,
}

impl<'p, R: Routine> WdfWorkItemRef<'p, R> {
    /// The item of `R` that `parent` keeps, borrowed with it; `None` if it
    /// keeps none. The handle is read from the parent's own context space,
    /// so it cannot be stale: a later object at the same address has its own.
    ///
    /// `P` is the routine's parent type; the bound is here, not on the type,
    /// so asking for a routine of another role is one error, at this call.
    pub fn kept<P>(parent: &'p P) -> Option<Self>
    where
        R: WdfRoutine<Parent = P>,
        P: WdfParent,
    {
        // SAFETY: `parent` is live for 'p (a borrow of it).
        let slot = unsafe {
            wdf_ffi::WdfObjectGetTypedContextWorker(parent.as_object(), R::KEPT_TYPE.as_raw())
        };
        if slot.is_null() {
            return None;
        }
        // SAFETY: `R::KEPT_TYPE` space holds the handle `keep_in_parent`
        // wrote; the item lives as long as this parent (the framework deletes
        // it only with the parent, and nothing else does).
        let handle = unsafe { slot.cast::<WDFWORKITEM>().read() };
        // INVARIANT: a live item of `R`, its parent borrowed for 'p.
        NonNull::new(handle).map(|handle| WdfWorkItemRef {
            handle,
            _parent: PhantomData,
            _routine: PhantomData,
        })
    }
}

impl<'p, R: WdfRoutine> WdfWorkItemRef<'p, R> {
    /// As [`WdfWorkItem::enqueue`]. IRQL <= DISPATCH_LEVEL.
    pub fn enqueue(&self) -> Enqueued {
        // SAFETY: by the invariants.
        unsafe { enqueue::<R>(self.handle.as_ptr()) }
    }

    /// As [`WdfWorkItem::flush`]. PASSIVE_LEVEL, not from the item's own
    /// callback (the host reports that as KMDF's verifier does).
    pub fn flush(&self) {
        // SAFETY: by the invariants.
        unsafe { wdf_ffi::WdfWorkItemFlush(self.handle.as_ptr()) }
    }

    /// The context, for as long as the parent is borrowed.
    pub fn context(&self) -> &'p R::Context {
        // SAFETY: by the invariants the item, and so its slot, lives for 'p.
        unsafe { &slot::<R>(self.handle.as_ptr()).context }
    }

    /// The handle.
    pub fn as_raw(&self) -> WDFWORKITEM {
        self.handle.as_ptr()
    }
}

impl<R: Routine> fmt::Debug for WdfWorkItemRef<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WdfWorkItemRef").field(&self.handle).finish()
    }
}

/// The work item as its callback sees it: context, parent, and `enqueue`
/// (the callback may queue its item again), but no `flush` and no delete.
pub struct RunningWdfWorkItem<'a, R: WdfRoutine> {
    handle: WDFWORKITEM,
    _call: PhantomData<&'a R>,
}

impl<R: WdfRoutine> RunningWdfWorkItem<'_, R> {
    /// # Safety
    ///
    /// `handle` is the live item of `R` whose callback is running.
    pub(crate) unsafe fn new(handle: WDFWORKITEM) -> Self {
        Self {
            handle,
            _call: PhantomData,
        }
    }

    /// The context.
    pub fn context(&self) -> &R::Context {
        // SAFETY: the item lives while its callback runs.
        unsafe { &slot::<R>(self.handle).context }
    }

    /// The parent.
    pub fn parent(&self) -> &R::Parent {
        // SAFETY: as for `WdfWorkItem::parent`.
        unsafe { R::Parent::from_object(wdf_ffi::WdfWorkItemGetParentObject(self.handle)) }
    }

    /// Queues the item again (it is no longer queued while its callback runs).
    pub fn enqueue(&self) -> Enqueued {
        // SAFETY: the item lives while its callback runs.
        unsafe { enqueue::<R>(self.handle) }
    }

    /// The handle.
    pub fn as_raw(&self) -> WDFWORKITEM {
        self.handle
    }
}

/// The callback's first step: the item is no longer queued.
///
/// # Safety
///
/// `handle` is the live item of `R` whose callback is starting.
pub(crate) unsafe fn unqueue<R: WdfRoutine>(handle: WDFWORKITEM) {
    // SAFETY: the caller's contract.
    unsafe { slot::<R>(handle) }
        .queued
        .store(false, Ordering::Release);
}

/// Drops the context in place (the cleanup callback).
///
/// # Safety
///
/// `object` is the item of `R` being cleaned up; its slot is initialized and
/// this is the one call that drops it.
pub(crate) unsafe fn drop_context<R: WdfRoutine>(object: WDFOBJECT) {
    // SAFETY: the caller's contract.
    unsafe {
        let space = wdf_ffi::WdfObjectGetTypedContextWorker(object, R::CONTEXT_TYPE.as_raw());
        if let Some(slot) = NonNull::new(space.cast::<Slot<R::Context>>()) {
            core::ptr::drop_in_place(slot.as_ptr());
        }
    }
}

/// `EVT_WDF_WORKITEM` of [`WdfRoutine`](crate::wdf::WdfRoutine): clears the
/// item's queued flag, then runs the routine with the running handle.
///
/// # Safety
///
/// Called by the framework for an item created by `WdfWorkItem::<R>::create`.
#[cfg(feature = "wdf")]
pub(crate) unsafe extern "system" fn wdf_work_item<R: WdfRoutine>(handle: WDFWORKITEM) {
    // SAFETY: the function's contract: a live item of `R`, its callback starting.
    let running = unsafe {
        unqueue::<R>(handle);
        RunningWdfWorkItem::<R>::new(handle)
    };
    guard(|| R::run(&running));
}

/// `EVT_WDF_OBJECT_CONTEXT_CLEANUP` of a `WdfWorkItem<R>`: drops the context.
///
/// # Safety
///
/// Called by the framework once, when the item of `R` is deleted.
#[cfg(feature = "wdf")]
pub(crate) unsafe extern "system" fn wdf_cleanup<R: WdfRoutine>(object: WDFOBJECT) {
    // The context's destructor is driver code: inside the guard.
    // SAFETY: the function's contract.
    guard(|| unsafe { drop_context::<R>(object) });
}
