//! Typed WDM device extensions: the device object a driver creates, with its
//! state in `DeviceExtension`, dropped exactly once when the device is
//! deleted, and reachable from a borrowed [`DeviceObject`] by the routines and
//! DPCs that run for it.
//!
//! # Layout
//!
//! [`Device::create`] asks `IoCreateDevice` for a header and then `E` (see
//! [`extension_size`]). The header says whose extension it is and guards `E`:
//!
//! | field | what |
//! |---|---|
//! | `magic` | `"ntwkDEV2"`: an ntwork extension of this layout |
//! | `this` | the header's own address: equal to `DeviceExtension` |
//! | `type_id` | `TypeId::of::<E>()` |
//! | `value` | where `E` is (after the header, aligned for `E`) |
//! | `item` | the `IO_WORKITEM` that deletes the device when a [`Device`] is dropped |
//! | `guards` | rundown protection (`EX_RUNDOWN_REF`) each [`ExtensionRef`] holds |
//!
//! # Invariants
//!
//! For a device that [`Device::create`] (or `create_with`) made:
//!
//! - the header is written once, before any code but the creator can see the
//!   device, and its fixed fields (`magic`, `this`, `type_id`, `value`) are
//!   never written again; `guards` is touched only through the rundown
//!   exports. The memory is the object's: it stays until the object's last
//!   reference drops.
//! - `value` holds an initialized `E` exactly while `guards` is open: it
//!   opens after `E` is written and is run down (for good) before `E` is
//!   dropped, which happens once, in [`Device`]'s delete, before
//!   `IoDeleteDevice`.
//! - `item` came from `IoAllocateWorkItem` for the device when it was
//!   created; it is queued once (a [`Device`] dropped: its routine deletes
//!   the device and frees it) or freed once (the delete), never both.
//! - a [`Device`] owns the device (the creator's reference and the right to
//!   delete it); there is one per device, or none once it was given to the
//!   object ([`Device::into_raw`]) until [`Device::from_raw`] takes it back.

mod delete;
mod extension;
mod header;
mod options;

pub use extension::{DeviceExtension, ExtensionRef, HeldExtension};
pub use options::{CreateDeviceError, DeviceOptions};

use core::any::TypeId;
use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::{self, NonNull};

use crate::ffi::{self, NTSTATUS, STATUS_DATATYPE_MISALIGNMENT, STATUS_NAME_TOO_LONG, ULONG};
use crate::irql::{AtPassive, verify};
use crate::objects::{DeviceObject, DriverObject};
use crate::rundown::Drain;
use delete::{DeleteOnDrop, delete_now, queue_delete};
use header::{HEADER, Header, MAGIC, extension_size, header_of};

/// A device object this driver created, with its extension `E`: what C keeps
/// in `DEVICE_OBJECT.DeviceExtension`, typed, initialized after
/// `IoCreateDevice` and dropped exactly once when the device is deleted.
///
/// The owner reaches `E` directly ([`extension`](Self::extension)); code that
/// only has the device (an Io routine, a DPC, a dispatch routine) reaches it
/// through [`DeviceObject::extension`], a guard that the delete waits for.
/// `E` is shared by those threads, so it is `Send + Sync + 'static`: interior
/// state goes in atomics or a [`SpinLock`](crate::SpinLock).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ntwork::irql::{Dispatch, Passive};
/// use ntwork::{Device, DeviceObject, DeviceOptions, DriverObject};
/// use ntwork::ffi::FILE_DEVICE_UNKNOWN;
///
/// /// The device extension.
/// struct Port {
///     interrupts: AtomicU32,
/// }
///
/// /// The DPC gets the device; the extension is a guard away.
/// fn dpc(device: &DeviceObject, irql: &Dispatch<'_>) {
///     if let Some(port) = device.extension::<Port>(irql) {
///         port.interrupts.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// # let exec = ntwork_host::Executive::manual();
/// # let host_driver = exec.load_driver("port.sys");
/// let driver = DriverObject::of(&host_driver);
/// let irql = Passive::on_host(); // AddDevice's: `unsafe { Passive::assume() }`
/// let port = Port { interrupts: AtomicU32::new(0) };
/// let device = Device::create(driver, port, DeviceOptions::new(FILE_DEVICE_UNKNOWN), &irql)?;
///
/// ntwork_host::at_dispatch_level(|| dpc(device.object(), &Dispatch::on_host()));
/// assert_eq!(device.extension().interrupts.load(Ordering::Relaxed), 1);
///
/// device.delete(&irql); // IRP_MN_REMOVE_DEVICE: waits for guards, drops `Port`, IoDeleteDevice
/// # Ok::<(), ntwork::ffi::NTSTATUS>(())
/// ```
///
/// # Deleting
///
/// [`delete`](Self::delete) refuses new guards and waits for the ones held,
/// drops `E`, frees the drop's work item, then calls `IoDeleteDevice`. The object's memory stays until
/// its last reference drops (queued Io work holds one), and from then on
/// [`DeviceObject::extension`] returns `None`. Work still queued runs after
/// the delete: it sees `None`; flush the extension's reusable items on the
/// stop path first if the routine must not miss the state.
///
/// `delete` waits, so it needs `PASSIVE_LEVEL` and takes the proof. A drop
/// cannot ask for one and may happen at `DISPATCH_LEVEL` (under a
/// [`SpinLock`](crate::SpinLock), in a DPC), so dropping a `Device` queues
/// the same delete on a work item the create allocated for it
/// (`IoQueueWorkItemEx`: it cannot fail), and a system worker thread deletes
/// the device at `PASSIVE_LEVEL`. A failed AddDevice path (`?` after the
/// create) so deletes its device as C does, a moment later; the queued item
/// keeps the device (and the image) until it has run. A device given to its object
/// ([`into_raw`](Self::into_raw)) is deleted by whoever takes it back
/// ([`from_raw`](Self::from_raw)); ntwork's DriverUnload deletes nothing: a
/// device left at unload keeps its driver object referenced (the image stays
/// mapped) and its extension is never dropped.
///
/// # State made after AddDevice
///
/// `E` is built once, at the create. What C fills in later (an
/// `IO_WORKITEM` allocated when a class driver connects, a pointer set at
/// start) is a field of `E` that starts empty: an atomic, or
/// `SpinLock<Option<T>>` set at PASSIVE_LEVEL and read under the lock from
/// the DPC. A flush needs the PASSIVE_LEVEL proof the lock borrows, so the
/// remove path takes the item out under the lock and flushes it after.
///
/// # DPCs
///
/// A DPC's `DeferredContext` is a raw pointer: pass the device object (not
/// the extension) and borrow it on entry (`DeviceObject::from_raw`, whose
/// contract the remove path keeps by `KeFlushQueuedDpcs` before the delete);
/// the DPC then reaches `E` with [`DeviceObject::extension`], which is `None`
/// once the delete began.
///
/// `create_with`'s closure names its error type when nothing else does:
/// `Ok::<_, NTSTATUS>(extension)`.
#[must_use = "dropping a Device deletes it (IoDeleteDevice)"]
pub struct Device<E> {
    object: NonNull<ffi::DEVICE_OBJECT>,
    header: NonNull<Header>,
    value: NonNull<E>,
    _owns: PhantomData<E>,
}

// SAFETY: the owner hands out `&E` and drops `E` (on any thread, at
// PASSIVE_LEVEL), while routines on other threads may hold `&E`: moving the
// owner needs `E: Send + Sync`. The device object is the kernel's, callable
// from any thread.
unsafe impl<E: Send + Sync> Send for Device<E> {}
// SAFETY: `&Device<E>` gives `&E` and `&DeviceObject` only.
unsafe impl<E: Send + Sync> Sync for Device<E> {}

/// The parts of a created device whose header is written and whose
/// extension is not yet (its guards unopened).
struct Created<E> {
    object: NonNull<ffi::DEVICE_OBJECT>,
    header: NonNull<Header>,
    value: NonNull<E>,
}

impl<E> Created<E> {
    /// What deletes the device, and frees its drop item, if the create does
    /// not finish.
    fn delete_on_drop(&self) -> DeleteOnDrop {
        // SAFETY: the header `allocate` wrote, live with the object.
        let item = unsafe { self.header.as_ref() }.item;
        DeleteOnDrop {
            object: self.object,
            item,
        }
    }
}

impl<E: DeviceExtension> Device<E> {
    /// `IoCreateDevice` with room for `extension`, which it then holds:
    /// AddDevice's functional device object, or a control device. The
    /// extension is reachable from the device from this call's return.
    /// `PASSIVE_LEVEL`. Also `IoAllocateWorkItem` for the device's drop.
    ///
    /// An extension that needs the device to be made (a work item bound to
    /// it) is built by [`create_with`](Self::create_with).
    ///
    /// # Errors
    ///
    /// [`CreateDeviceError`] with `IoCreateDevice`'s status (or
    /// `STATUS_INSUFFICIENT_RESOURCES` when `IoAllocateWorkItem` failed,
    /// after the device was deleted) and `extension` back.
    pub fn create(
        driver: &DriverObject,
        extension: E,
        options: DeviceOptions<'_>,
        irql: &impl AtPassive,
    ) -> Result<Self, CreateDeviceError<E>> {
        verify(irql, "Device::create");
        match Self::allocate(driver, options) {
            // SAFETY: just created, its header written and nothing else.
            Ok(created) => Ok(unsafe { Self::publish(created, extension) }),
            Err(status) => Err(CreateDeviceError {
                status,
                given: extension,
            }),
        }
    }

    /// `IoCreateDevice`, then `init` builds the extension with the new
    /// device at hand: the C order, where AddDevice fills the extension in
    /// after the create (`IoAllocateWorkItem(fdo)` for the item the
    /// extension keeps). Until `init` returns, [`DeviceObject::extension`]
    /// on the device returns `None` (work `init` queues may run already).
    /// `PASSIVE_LEVEL`.
    ///
    /// # Errors
    ///
    /// `init`'s error, after the device is deleted; or a failed
    /// `IoCreateDevice` (`init` not called) as `X`: any error type that a
    /// [`CreateDeviceError`] converts into, such as `NTSTATUS`.
    pub fn create_with<X: From<CreateDeviceError>>(
        driver: &DriverObject,
        options: DeviceOptions<'_>,
        irql: &impl AtPassive,
        init: impl FnOnce(&DeviceObject) -> Result<E, X>,
    ) -> Result<Self, X> {
        verify(irql, "Device::create_with");
        let created = Self::allocate(driver, options)
            .map_err(|status| CreateDeviceError { status, given: () })?;
        // Deletes the device if `init` fails (or panics on the host).
        let deleting = created.delete_on_drop();
        // SAFETY: the device this call created; it is deleted only when
        // `deleting` drops, after the borrow's last use in `init`.
        let object = unsafe { DeviceObject::from_raw(created.object.as_ptr()) };
        let extension = init(object)?;
        core::mem::forget(deleting);
        // SAFETY: created above, its header written and nothing else.
        Ok(unsafe { Self::publish(created, extension) })
    }

    /// `IoCreateDevice` with room for the header and `E`, and the header
    /// written with its guards unopened.
    fn allocate(driver: &DriverObject, options: DeviceOptions<'_>) -> Result<Created<E>, NTSTATUS> {
        let size = ULONG::try_from(extension_size::<E>())
            .map_err(|_| ffi::STATUS_INSUFFICIENT_RESOURCES)?;
        let mut name = match options.name {
            Some(name) => {
                let bytes = u16::try_from(2 * name.len()).map_err(|_| STATUS_NAME_TOO_LONG)?;
                Some(ffi::UNICODE_STRING {
                    Length: bytes,
                    MaximumLength: bytes,
                    // IoCreateDevice only reads the name.
                    Buffer: name.as_ptr().cast_mut(),
                })
            }
            None => None,
        };
        let name = name.as_mut().map_or(ptr::null_mut(), ptr::from_mut);
        let mut raw: ffi::PDEVICE_OBJECT = ptr::null_mut();
        // SAFETY: `driver` is this driver's live object; `name` is NULL or a
        // UNICODE_STRING over `options.name`, live for the call; `raw` is
        // valid for the write; PASSIVE_LEVEL (the caller's proof).
        let status = unsafe {
            ffi::IoCreateDevice(
                driver.as_raw(),
                size,
                name,
                options.device_type,
                options.characteristics,
                u8::from(options.exclusive),
                &mut raw,
            )
        };
        if status < 0 {
            return Err(status);
        }
        let object = NonNull::new(raw).ok_or(ffi::STATUS_INSUFFICIENT_RESOURCES)?;
        let mut deleting = DeleteOnDrop {
            object,
            item: ptr::null_mut(),
        };
        // SAFETY: the device object just made, this driver's; PASSIVE_LEVEL.
        let item = unsafe { ffi::IoAllocateWorkItem(raw) };
        if item.is_null() {
            return Err(ffi::STATUS_INSUFFICIENT_RESOURCES);
        }
        deleting.item = item;
        // SAFETY: the device object IoCreateDevice just made, laid out as
        // wdm.h declares it; only this thread knows it.
        let extension = unsafe { (*raw).DeviceExtension };
        if extension.is_null() || !extension.cast::<Header>().is_aligned() {
            return Err(STATUS_DATATYPE_MISALIGNMENT);
        }
        let header = extension.cast::<Header>();
        let at = (header.addr() + HEADER).next_multiple_of(align_of::<E>());
        let value = header.cast::<E>().with_addr(at);
        // SAFETY: `size` zeroed bytes of extension, aligned for a header,
        // that only this thread knows yet; the header is its first bytes.
        unsafe {
            header.write(Header {
                magic: MAGIC,
                this: header,
                type_id: TypeId::of::<E>(),
                value: value.cast(),
                item,
                guards: Drain::unopened(),
            });
        }
        core::mem::forget(deleting);
        Ok(Created {
            object,
            // SAFETY: `header` is the non-NULL extension.
            header: unsafe { NonNull::new_unchecked(header) },
            // SAFETY: `value` is inside the extension (not NULL).
            value: unsafe { NonNull::new_unchecked(value) },
        })
    }

    /// Writes the extension and opens its guards: from now on routines reach it.
    ///
    /// # Safety
    ///
    /// `created` comes from [`allocate`](Self::allocate), its device not
    /// deleted, and this is its one publish.
    unsafe fn publish(created: Created<E>, extension: E) -> Self {
        // SAFETY: `value` is inside the extension, aligned for `E`, with
        // `size_of::<E>()` bytes before its end (`extension_size`), and no
        // one reads it before the guards open (the invariants).
        unsafe { created.value.as_ptr().write(extension) };
        // SAFETY: the header `allocate` wrote, live with the object.
        let header = unsafe { created.header.as_ref() };
        // The write above happens before every guard's acquire.
        let _ = header.guards.open(|| Ok::<(), Infallible>(()));
        Self {
            object: created.object,
            header: created.header,
            value: created.value,
            _owns: PhantomData,
        }
    }
}

impl<E> Device<E> {
    /// The device object, for as long as the owner is borrowed (queue work
    /// on it, take an [`ARef`](crate::ARef) to keep it).
    pub fn object(&self) -> &DeviceObject {
        // SAFETY: the owner holds the creator's reference and deletes only
        // by value, so the object lives while `self` is borrowed.
        unsafe { DeviceObject::from_raw(self.object.as_ptr()) }
    }

    /// The extension, for as long as the owner is borrowed: no guard is
    /// needed, since only the owner deletes it.
    pub fn extension(&self) -> &E {
        // SAFETY: initialized while the device is not deleted (the
        // invariants), and deleting takes the owner by value.
        unsafe { self.value.as_ref() }
    }

    /// Deletes the device: refuses new guards and waits for those held
    /// ([`DeviceObject::extension`]), drops the extension, then
    /// `IoDeleteDevice`. The object's memory stays while references remain
    /// (queued Io work); their routines find no extension. `PASSIVE_LEVEL`;
    /// not from a thread that holds a guard on this device (it would wait
    /// for itself).
    pub fn delete(self, irql: &impl AtPassive) {
        verify(irql, "Device::delete");
        let mut this = ManuallyDrop::new(self);
        this.destroy();
    }

    /// Gives the device to its object: nothing deletes it until
    /// [`from_raw`](Self::from_raw) takes it back (at `IRP_MN_REMOVE_DEVICE`,
    /// or in the driver's unload for a device of a non-PnP driver). The
    /// extension stays reachable through [`DeviceObject::extension`].
    #[must_use = "the device is deleted only by the Device that from_raw makes of this pointer"]
    pub fn into_raw(self) -> ffi::PDEVICE_OBJECT {
        ManuallyDrop::new(self).object.as_ptr()
    }

    /// Takes back a device given with [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `device` is what `into_raw` of a `Device<E>` (this `E`) returned, and
    /// no other `from_raw` took it back. Deleting the result ends every
    /// borrow of the device made from the raw pointer
    /// ([`DeviceObject::from_raw`]): none is used after it.
    ///
    /// # Panics
    ///
    /// If `device` has no ntwork extension of type `E` (the first half of
    /// the contract, checked).
    pub unsafe fn from_raw(device: ffi::PDEVICE_OBJECT) -> Self
    where
        E: 'static,
    {
        // SAFETY: a device this driver created and did not delete (the
        // contract), live for this call.
        let object = unsafe { DeviceObject::from_raw(device) };
        let header = header_of::<E>(object).expect("Device::from_raw: not a Device<E> of ntwork");
        Self {
            // SAFETY: `device` is the object borrowed above, not NULL.
            object: unsafe { NonNull::new_unchecked(device) },
            header: NonNull::from(header),
            // SAFETY: `value` of an ntwork header is inside the extension.
            value: unsafe { NonNull::new_unchecked(header.value.cast()) },
            _owns: PhantomData,
        }
    }

    /// The delete; `self` is not used after it.
    fn destroy(&mut self) {
        // SAFETY: this owner's device, header and extension, deleted once
        // (the caller does not use `self` after it).
        unsafe { delete_now(self.object, self.header, self.value) };
    }
}

impl<E> Drop for Device<E> {
    /// Deletes the device on a system worker thread: queues the device's
    /// drop item (made at the create), whose routine does what
    /// [`delete`](Device::delete) does, at PASSIVE_LEVEL. So a drop is legal
    /// wherever the owner can be dropped (IRQL <= `DISPATCH_LEVEL`: under a
    /// spin lock, in a DPC) and never waits.
    fn drop(&mut self) {
        // SAFETY: this owner's header; the owner is being dropped and gives
        // the device up; only a drop queues the item, and an owner is
        // dropped or deleted once.
        unsafe { queue_delete::<E>(self.header) };
    }
}

impl<E> fmt::Debug for Device<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Device").field(&self.object).finish()
    }
}
