//! A device's delete, at once ([`Device::delete`](super::Device::delete))
//! or, for a drop that may come at DISPATCH_LEVEL, queued on the device's
//! own work item and run by a system worker at PASSIVE_LEVEL: the queue side
//! and the run side of that hand-off.

use core::ffi::c_void;
use core::ptr::{self, NonNull};

use super::header::Header;
use crate::ffi;
use crate::guard::guard;
use crate::held;
use crate::queue::WorkQueue;

/// `IoFreeWorkItem` of the device's drop item, then `IoDeleteDevice`, when
/// dropped: what deletes a device whose creation or delete did not finish
/// (an initializer that failed, an `E` whose drop panicked on the host) or
/// did (the delete's last step).
pub(super) struct DeleteOnDrop {
    pub(super) object: NonNull<ffi::DEVICE_OBJECT>,
    /// The device's drop item, not queued (NULL: none allocated yet).
    pub(super) item: ffi::PIO_WORKITEM,
}

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        if !self.item.is_null() {
            // SAFETY: the device's drop item, from `IoAllocateWorkItem`, not
            // queued and freed once, here (the value is made once per device).
            unsafe { ffi::IoFreeWorkItem(self.item) };
        }
        // SAFETY: the device this driver created and owns; deleted once,
        // here (the value is made once per device and not copied).
        unsafe { ffi::IoDeleteDevice(self.object.as_ptr()) };
    }
}

/// Waits for the guards, drops `E`, frees the drop item and deletes the
/// device. PASSIVE_LEVEL.
///
/// # Safety
///
/// `object`, `header` and `value` are a [`Device<E>`](super::Device)'s, whose owner gave
/// up the device for this call (its delete, or its drop's routine), once;
/// the drop item is not queued, or is the running routine's own.
pub(super) unsafe fn delete_now<E>(
    object: NonNull<ffi::DEVICE_OBJECT>,
    header: NonNull<Header>,
    value: NonNull<E>,
) {
    // SAFETY: the header of the device given up (the contract), live with it.
    let header = unsafe { header.as_ref() };
    held::assert_no_guard(
        held::address_of(&header.guards),
        "Device::delete on a thread that holds an ExtensionRef of the device: the delete \
         waits for every guard, this one included, so on Windows it never returns. Drop the \
         guard first",
    );
    if !header.guards.wait() {
        // A guard is still held (a host executive stopped the wait with a
        // diagnostic; Windows's wait never returns so): `E` stays, and with
        // it the device, as a stopped executive leaves what it holds.
        return;
    }
    // IoFreeWorkItem and IoDeleteDevice even if the extension's drop panics
    // (host builds).
    let deleting = DeleteOnDrop {
        object,
        item: header.item,
    };
    // SAFETY: the guards are run down for good, so no `&E` exists but
    // through the owner that gave the device up; `E` was initialized at
    // publish and is dropped once, here (the invariants).
    unsafe { ptr::drop_in_place(value.as_ptr()) };
    drop(deleting);
}

/// Queues the delete of a dropped device on its drop item
/// (`IoQueueWorkItemEx`, allowed at IRQL <= `DISPATCH_LEVEL`): a system
/// worker runs [`deferred_delete`] at PASSIVE_LEVEL, and the queued item
/// keeps the device, and so the image, until it ran.
///
/// # Safety
///
/// `header` is the header of a device whose owner (a `Device<E>`, this `E`)
/// is being dropped and gives the device up to this call; the drop item was
/// never queued.
pub(super) unsafe fn queue_delete<E>(header: NonNull<Header>) {
    // SAFETY: the header of the device given up (the contract), live with it.
    let item = unsafe { header.as_ref() }.item;
    // SAFETY: the device's drop item, from `IoAllocateWorkItem` for this
    // device and never queued (the contract); `deferred_delete::<E>` takes
    // the device over, once.
    unsafe {
        ffi::IoQueueWorkItemEx(
            item,
            Some(deferred_delete::<E>),
            WorkQueue::Delayed.as_raw(),
            header.as_ptr().cast(),
        );
    }
}

/// The drop item's routine: the delete, on a system worker thread.
///
/// # Safety
///
/// Queued once, by [`queue_delete`], with the header as `context`;
/// `io_object` is its device and `item` its drop item.
unsafe extern "system" fn deferred_delete<E>(
    io_object: *mut c_void,
    context: *mut c_void,
    _item: ffi::PIO_WORKITEM,
) {
    let Some(object) = NonNull::new(io_object.cast::<ffi::DEVICE_OBJECT>()) else {
        return;
    };
    let Some(header) = NonNull::new(context.cast::<Header>()) else {
        return;
    };
    // SAFETY: the header of the device the drop gave up (the contract),
    // which the queue keeps referenced while this runs.
    let value = unsafe { header.as_ref() }.value.cast::<E>();
    // SAFETY: an ntwork header's `value` is inside the extension (not NULL).
    let value = unsafe { NonNull::new_unchecked(value) };
    // SAFETY: the device, header and extension the drop gave up, once; the
    // drop item is this routine's own, which it may free.
    guard(|| unsafe { delete_now(object, header, value) });
}
