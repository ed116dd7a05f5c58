//! The item a parent keeps: found again through a borrow of the parent, never
//! a disposed one, and its memory held by the parent's own context space.

use crate::irql::{AtMostDispatch, AtPassive, verify};
use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use super::context::{Enqueued, KeptSlot, WdfContextSpace, enqueue, slot};
use super::parent::WdfParent;
use super::running::WdfRoutine;
use crate::Routine;
use crate::ffi::wdf::{self as wdf_ffi, WDFOBJECT, WDFWORKITEM};

/// An item its parent keeps ([`WdfWorkItem::keep_in_parent`](super::WdfWorkItem::keep_in_parent)),
/// reached through a borrow of that parent ([`kept`](Self::kept)): what an
/// owned [`WdfWorkItem`](super::WdfWorkItem) offers, without the delete.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// use ntwork::irql::{Dispatch, Passive};
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
/// let device = WdfDevice::of(&host_device);
/// // EvtDriverDeviceAdd, at PASSIVE_LEVEL: create the item under the device,
/// // kept by it.
/// let irql = Passive::on_host();
/// drain::create(device, AtomicU32::new(0), Serialization::None, &irql)
///     .unwrap()
///     .keep_in_parent(&irql)
///     .unwrap();
/// // Later, from the DPC, with the device the framework passes in:
/// fn dpc(device: &WdfDevice, irql: &Dispatch<'_>) -> Enqueued {
///     let item = WdfWorkItemRef::<drain>::kept(device).expect("kept by this device");
///     item.context().fetch_add(1, Ordering::SeqCst);
///     item.enqueue(irql)
/// }
/// let enqueued = ntwork_host::at_dispatch_level(|| dpc(device, &Dispatch::on_host()));
/// assert_eq!(enqueued, Enqueued::Queued);
/// assert_eq!(exec.run_until_idle(), 1);
/// host_device.delete(); // the framework disposes the item with its device
/// ```
///
/// # Invariants
///
/// `handle` is an item of `R` kept by a parent borrowed for `'p`: the
/// parent's context space holds a reference on it until the parent's
/// cleanup, which cannot come before `'p` ends, so its memory and its context
/// live for `'p`. It was not disposed when it was looked up (it may be since:
/// the framework then ignores an enqueue, which reports [`Enqueued::Deleted`]).
pub struct WdfWorkItemRef<'p, R: Routine> {
    handle: NonNull<wdf_ffi::WDFWORKITEM__>,
    _parent: PhantomData<&'p ()>,
    _routine: PhantomData<fn() -> R>,
}

impl<'p, R: Routine> WdfWorkItemRef<'p, R> {
    /// The item of `R` that `parent` keeps, borrowed with it; `None` if it
    /// keeps none, or if that item was disposed (deleted with its parent,
    /// which is being removed) or its callback deleted it
    /// ([`RunningWdfWorkItem::delete`](super::RunningWdfWorkItem::delete)). The handle is read from the parent's own
    /// context space, so it cannot be stale: a later object at the same
    /// address has its own.
    ///
    /// `P` is the routine's parent type; the bound is here, not on the type,
    /// so asking for a routine of another role is one error, at this call.
    pub fn kept<P>(parent: &'p P) -> Option<Self>
    where
        R: WdfRoutine<Parent = P>,
        P: WdfParent,
    {
        // SAFETY: `parent` is live for 'p (a borrow of it); `KEPT_TYPE` is a
        // context type info.
        let space = unsafe {
            wdf_ffi::WdfObjectGetTypedContextWorker(parent.as_object(), R::KEPT_TYPE.as_raw())
        };
        let space = NonNull::new(space)?;
        // SAFETY: a space of `R::KEPT_TYPE` is one handle of an item of `R`
        // (`WdfContextSpace`'s contract: no other routine's type), aligned,
        // live with the parent for 'p, and only accessed atomically.
        let kept = unsafe { kept_slot(space) };
        // Under the slot's lock, so the parent's cleanup (on another thread)
        // cannot release the item between the read and the reference.
        let handle = kept.locked(|handle| {
            // Null until `keep_in_parent` stored it (and after the parent's
            // cleanup released it).
            let handle = NonNull::new(handle.load(Ordering::Acquire))?;
            // SAFETY: the slot holds the handle, so the parent's space still
            // holds its reference (the cleanup empties the slot under this
            // lock before releasing it): the item's memory and slot are live.
            let slot = unsafe { slot::<R>(handle.as_ptr()) };
            // Disposed, or its callback claimed the delete it makes on return.
            if slot.is_deleted() || slot.is_delete_claimed() {
                return None;
            }
            // SAFETY: the item is live while the slot holds its handle (the
            // parent's space holds a reference, released only after the slot
            // is emptied under this lock); this reference keeps the item
            // and its context (dropped at the last reference) for as long as
            // the value lends them, past the parent's cleanup; given up in
            // `Drop`. IRQL DISPATCH_LEVEL (the slot's lock) is allowed.
            unsafe {
                wdf_ffi::WdfObjectReferenceActual(
                    handle.as_ptr().cast(),
                    ref_tag(),
                    0,
                    ptr::null(),
                );
            }
            Some(handle)
        })?;
        // INVARIANT: an item of `R` kept by the parent borrowed for 'p, not
        // disposed when looked up.
        Some(WdfWorkItemRef {
            handle,
            _parent: PhantomData,
            _routine: PhantomData,
        })
    }
}

impl<'p, R: WdfRoutine> WdfWorkItemRef<'p, R> {
    /// As [`WdfWorkItem::enqueue`](super::WdfWorkItem::enqueue). IRQL <= DISPATCH_LEVEL.
    pub fn enqueue(&self, irql: &impl AtMostDispatch) -> Enqueued {
        verify(irql, "WdfWorkItemRef::enqueue");
        // SAFETY: by the invariants the item's memory and slot are live.
        unsafe { enqueue::<R>(self.handle.as_ptr()) }
    }

    /// As [`WdfWorkItem::flush`](super::WdfWorkItem::flush). PASSIVE_LEVEL,
    /// not from the item's own callback (the framework's verifier breaks).
    pub fn flush(&self, irql: &impl AtPassive) {
        verify(irql, "WdfWorkItemRef::flush");
        // SAFETY: by the invariants the item's memory is live.
        unsafe { wdf_ffi::WdfWorkItemFlush(self.handle.as_ptr()) }
    }

    /// The context, for as long as this value is borrowed: its reference,
    /// not the parent, keeps the context (the parent's removal may dispose
    /// the item meanwhile).
    pub fn context(&self) -> &R::Context {
        // SAFETY: by the invariants the item's slot is valid while this
        // value holds its reference.
        unsafe { &slot::<R>(self.handle.as_ptr()).context }
    }

    /// The handle.
    pub fn as_raw(&self) -> WDFWORKITEM {
        self.handle.as_ptr()
    }
}

impl<R: Routine> Drop for WdfWorkItemRef<'_, R> {
    fn drop(&mut self) {
        // SAFETY: the reference `kept` took on this live item, given up once
        // with its tag; the destroy callback drops the context at the last.
        unsafe {
            wdf_ffi::WdfObjectDereferenceActual(
                self.handle.as_ptr().cast(),
                ref_tag(),
                0,
                ptr::null(),
            );
        }
    }
}

/// The tag of the references a [`WdfWorkItemRef`] holds.
fn ref_tag() -> *mut c_void {
    static REF_TAG: u8 = 0;
    ptr::from_ref(&REF_TAG).cast_mut().cast()
}

impl<R: Routine> fmt::Debug for WdfWorkItemRef<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WdfWorkItemRef").field(&self.handle).finish()
    }
}

/// A parent's `KEPT_TYPE` space ([`KeptSlot`]): its handle is read and
/// written atomically, because the space is findable (by `kept` on another
/// thread: a DPC) from the moment the framework allocated it, before
/// `keep_in_parent` stores the handle.
///
/// # Safety
///
/// `space` is a live, aligned `KEPT_TYPE` space (zeroed when allocated: a
/// null handle and a released lock) that lives for `'a` and is only ever
/// accessed through the returned reference.
pub(crate) unsafe fn kept_slot<'a>(space: NonNull<c_void>) -> &'a KeptSlot {
    // SAFETY: the caller guarantees a live, aligned, zero-initialized
    // `KeptSlot` for 'a, shared only through `&KeptSlot` (atomics and the
    // slot's own lock).
    unsafe { space.cast::<KeptSlot>().as_ref() }
}

/// The tag of the reference a parent's space holds on the item it keeps.
pub(crate) fn tag<R: WdfContextSpace>() -> *mut c_void {
    ptr::from_ref(R::KEPT_TYPE).cast_mut().cast()
}

/// `EVT_WDF_OBJECT_CONTEXT_CLEANUP` of a parent's space that keeps an item of
/// `R`: the parent is being deleted, its children are disposed; the reference
/// on the item goes (and with the last one, the item's memory and context).
///
/// # Safety
///
/// Called by the framework, once, for a parent whose `R::KEPT_TYPE` space
/// `keep_in_parent` allocated.
pub(crate) unsafe extern "system" fn release_kept<R: WdfContextSpace>(parent: WDFOBJECT) {
    // SAFETY: the parent's memory is live during its cleanup (this
    // callback's contract), and `KEPT_TYPE` is a context type info.
    let space = unsafe { wdf_ffi::WdfObjectGetTypedContextWorker(parent, R::KEPT_TYPE.as_raw()) };
    if let Some(space) = NonNull::new(space) {
        // SAFETY: the parent's `KEPT_TYPE` space, one handle
        // (`WdfContextSpace`'s contract), aligned, live during the cleanup and
        // only accessed atomically.
        let slot = unsafe { kept_slot(space) };
        // Emptied so the reference is released once; under the slot's lock,
        // so a lookup has either taken its own reference or will find none.
        let handle = slot.locked(|handle| handle.swap(ptr::null_mut(), Ordering::AcqRel));
        if !handle.is_null() {
            // SAFETY: the handle `keep_in_parent` wrote, with the reference it
            // took under this tag; the reference keeps the item live until
            // this call gives it up, once.
            unsafe {
                wdf_ffi::WdfObjectDereferenceActual(handle.cast(), tag::<R>(), 0, ptr::null());
            }
        }
    }
}
