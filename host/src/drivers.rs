//! Fake drivers and devices as a test holds them: [`Driver`] and [`Device`],
//! and driver unload (DriverUnload, then the image unmapped when the driver
//! object's last reference drops).

use core::ffi::c_void;
use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ntwork_sys::{self as ffi, PDEVICE_OBJECT, PDRIVER_OBJECT};

use crate::bugcheck::BugCheck;
use crate::context::with_driver_context;
use crate::objects;
use crate::state::{DriverState, Inner, ObjectKind, Ptr};

/// Why [`Driver::unload`] did not unload the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnloadError {
    /// The driver object's `DriverUnload` is NULL: the I/O manager refuses
    /// to unload such a driver (`NtUnloadDriver` fails), so nothing was
    /// called and the driver stays loaded.
    NoDriverUnload,
    /// A device of the driver is open (its `ReferenceCount` field is not 0)
    /// or has a device attached (`AttachedDevice`): the I/O manager does not
    /// call DriverUnload then. (Windows marks the unload pending and calls
    /// DriverUnload when the last handle closes; the host has no handles to
    /// close, so it calls nothing and says so.)
    DevicesInUse,
    /// The executive was bug-checked already, or a bug check was raised
    /// during the unload (DriverUnload's own, or Driver Verifier's leak check
    /// when the image was unmapped at once).
    BugCheck(BugCheck),
}

impl From<BugCheck> for UnloadError {
    fn from(bug_check: BugCheck) -> Self {
        Self::BugCheck(bug_check)
    }
}

impl fmt::Display for UnloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoDriverUnload => f.write_str("the driver has no DriverUnload: it cannot unload"),
            Self::DevicesInUse => f.write_str("a device of the driver is open or attached"),
            Self::BugCheck(bug_check) => write!(f, "bug check {bug_check}"),
        }
    }
}

impl core::error::Error for UnloadError {}

/// The DriverUnload [`Executive::load_driver`](crate::Executive::load_driver)
/// installs, as a typical WDM driver's: `IoDeleteDevice` on each device still
/// in the driver object's `DeviceObject` list. A test replaces it with
/// [`Driver::set_unload`] (a driver whose DriverUnload leaves devices behind
/// keeps its image mapped, as on Windows).
///
/// # Safety
///
/// `driver` is a live driver object of the calling thread's executive,
/// being unloaded (PASSIVE_LEVEL).
pub unsafe extern "system" fn delete_devices_on_unload(driver: PDRIVER_OBJECT) {
    // Each device's successor is read before it is deleted (deleting
    // unlinks it from the list).
    // SAFETY: `driver` is a live driver object (this fn's contract).
    let mut device = unsafe { (*driver).DeviceObject };
    while !device.is_null() {
        // SAFETY: `device` is non-NULL and in the driver's device list, which
        // links only live devices (a device leaves it when deleted).
        let next = unsafe { (*device).NextDevice };
        // SAFETY: `device` is a live device object of the calling thread's
        // executive, deleted once, at PASSIVE_LEVEL (unload).
        unsafe { ffi::IoDeleteDevice(device) };
        device = next;
    }
}

/// A fake driver loaded in an [`Executive`](crate::Executive). Its image
/// stays mapped until [`unload`](Self::unload) has run *and* the last
/// reference to its DRIVER_OBJECT has dropped (its devices and queued Io work
/// hold references), as on Windows. The handle keeps the DRIVER_OBJECT's
/// memory while it exists (not the object: the executive stops accepting a
/// freed one).
pub struct Driver {
    inner: Arc<Inner>,
    index: usize,
    object: Ptr<ffi::DRIVER_OBJECT>,
    name: Arc<str>,
}

impl Driver {
    /// Loads a driver named `name` on `inner`, as DriverEntry of a typical
    /// WDM driver leaves it: DriverUnload is [`delete_devices_on_unload`].
    pub(crate) fn load(inner: &Arc<Inner>, name: &str) -> Driver {
        let name: Arc<str> = name.into();
        let (index, object) = objects::create_driver(inner, &name);
        // SAFETY: the new driver object, not yet seen by anyone else.
        unsafe { (*object).DriverUnload = Some(delete_devices_on_unload) };
        Driver {
            inner: Arc::clone(inner),
            index,
            object: Ptr(object),
            name,
        }
    }

    /// Creates a device object of this driver: `IoCreateDevice` with no
    /// extension. The device holds a reference on the driver object until it
    /// is freed.
    pub fn create_device(&self) -> Device {
        self.create_device_with_extension(0)
    }

    /// Creates a device object of this driver with `extension_size` zeroed
    /// bytes of `DeviceExtension`, as `IoCreateDevice` does.
    pub fn create_device_with_extension(&self, extension_size: usize) -> Device {
        let mut st = self.inner.lock();
        let raw = objects::create_device_locked(
            &mut st,
            self.index,
            extension_size,
            ffi::FILE_DEVICE_UNKNOWN,
            1,
        );
        Device {
            inner: Arc::clone(&self.inner),
            raw: Ptr(raw),
        }
    }

    /// A handle on a device this driver created through `IoCreateDevice`
    /// (as ntwork's `Device::create` does), so a test can check it like one
    /// from [`create_device`](Self::create_device): the handle keeps the
    /// object's memory from now on. `None` if `device` is not a device of
    /// this driver that the object manager still has (deleted and freed, or
    /// never made by it).
    pub fn device(&self, device: PDEVICE_OBJECT) -> Option<Device> {
        let mut st = self.inner.lock();
        let rec = st.objects.get(&device.addr())?;
        if rec.kind != ObjectKind::Device || rec.driver != self.index {
            return None;
        }
        objects::add_handle(&mut st, device.addr());
        Some(Device {
            inner: Arc::clone(&self.inner),
            raw: Ptr(device),
        })
    }

    /// Sets the driver object's `DriverUnload` field, as DriverEntry does;
    /// `None` makes the driver one that cannot unload.
    pub fn set_unload(&self, routine: ffi::PDRIVER_UNLOAD) {
        // SAFETY: this handle keeps the driver object's memory; the field is
        // the driver's to write.
        unsafe { (*self.object.0).DriverUnload = routine };
    }

    /// The driver object's `DriverUnload` field.
    pub fn unload_routine(&self) -> ffi::PDRIVER_UNLOAD {
        // SAFETY: this handle keeps the driver object's memory.
        unsafe { (*self.object.0).DriverUnload }
    }

    /// Declares that `routine` is code of this driver's image. Windows knows
    /// the image of every address; the host's drivers share the test binary,
    /// so with two or more drivers loaded an Ex routine must be declared
    /// (else `ExQueueWorkItem` stops with
    /// [`HOST_ROUTINE_IMAGE_UNKNOWN`](crate::bugcheck::HOST_ROUTINE_IMAGE_UNKNOWN)).
    /// With one driver, every routine is its.
    pub fn add_to_image(&self, routine: *const ()) {
        self.inner.lock().drivers[self.index]
            .image
            .push(routine.addr());
    }

    /// Runs `f` as this driver's code: pool it allocates is attributed to
    /// this driver (for Driver Verifier's leak check). Work routines run in
    /// their image's driver's context by themselves; with one driver loaded,
    /// every call is attributed to it. (Ex work is attributed by its
    /// routine's image, not by who queues it: see [`add_to_image`](Self::add_to_image).)
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        with_driver_context(&self.inner, Some(self.index), f)
    }

    /// Unloads the driver as the I/O manager does: calls the routine in the
    /// driver object's `DriverUnload` field (at PASSIVE_LEVEL, as this
    /// driver's code), then drops the I/O manager's reference on the driver
    /// object. The default routine deletes the driver's devices
    /// ([`delete_devices_on_unload`]).
    ///
    /// As on Windows, Io work still queued or running is legal: it references
    /// its device or driver object, so the image stays mapped and the routine
    /// runs after DriverUnload; devices DriverUnload leaves undeleted keep it
    /// mapped too. When the last reference drops, the image is unmapped
    /// ([`Executive::is_image_mapped`](crate::Executive::is_image_mapped))
    /// and, under Driver Verifier, its leak check runs. Ex work keeps nothing
    /// alive: an Ex routine of this driver dispatched after the unmap is bug
    /// check 0xCE (routine, 8, routine, 0), at dispatch.
    ///
    /// # Errors
    ///
    /// [`UnloadError::NoDriverUnload`] and [`UnloadError::DevicesInUse`]
    /// when the I/O manager would not call DriverUnload (the driver stays
    /// loaded); [`UnloadError::BugCheck`] if the executive is bug-checked, or
    /// becomes so during the unload.
    pub fn unload(self) -> Result<(), UnloadError> {
        let export = Self::unload as *const () as usize;
        let stopped = self.inner.lock().bug_check.is_some();
        if stopped && let Some(bug_check) = self.inner.take_bug_check_seen() {
            return Err(bug_check.into());
        }
        let object = self.object.0;
        let Some(routine) = self.unload_routine() else {
            return Err(UnloadError::NoDriverUnload);
        };
        if self.devices_in_use() {
            return Err(UnloadError::DevicesInUse);
        }
        // The I/O manager marks the object before it calls DriverUnload
        // (ReactOS `IopUnloadDriver`); atomically here, since driver code
        // may read the flag meanwhile (`set_unload`).
        // SAFETY: the driver object is live (loaded); only the field's
        // address is taken.
        let flags = unsafe { &raw mut (*object).Flags };
        // SAFETY: a 4-aligned `ULONG` of the live driver object, which only
        // atomic accesses touch once the driver runs (this one, and the
        // runtime's read in `set_unload`).
        let flags = unsafe { AtomicU32::from_ptr(flags) };
        flags.fetch_or(ffi::DRVO_UNLOAD_INVOKED, Ordering::SeqCst);
        // SAFETY: the routine the driver stored for its driver object, called
        // once, at PASSIVE_LEVEL, as the I/O manager calls it.
        self.run(|| unsafe { routine(object) });
        let mut st = self.inner.lock();
        st.drivers[self.index].state = DriverState::Unloaded;
        objects::dereference_locked(&self.inner, &mut st, self.object.addr(), export);
        st.bug_check_seen |= st.bug_check.is_some();
        st.bug_check.map_or(Ok(()), |b| Err(b.into()))
    }

    /// Whether a device in the driver's list is open or has a device attached.
    fn devices_in_use(&self) -> bool {
        let _st = self.inner.lock();
        // SAFETY: the driver object is live (loaded) and its device list is
        // written under the executive's lock, which is held.
        let mut device = unsafe { (*self.object.0).DeviceObject };
        while !device.is_null() {
            // SAFETY: `device` is non-NULL and in the device list, which links
            // only live devices (a device leaves it when deleted or freed).
            if unsafe { (*device).ReferenceCount } != 0 {
                return true;
            }
            // SAFETY: `device` is still a live listed device (the lock is
            // held, so it cannot be unlinked meanwhile).
            if unsafe { !(*device).AttachedDevice.is_null() } {
                return true;
            }
            // SAFETY: `device` is a live listed device; its `NextDevice` link
            // is written only under the executive's lock, which is held.
            device = unsafe { (*device).NextDevice };
        }
        false
    }

    /// The DRIVER_OBJECT. Its memory stays while this handle exists.
    pub fn as_raw(&self) -> *mut ffi::DRIVER_OBJECT {
        self.object.0
    }

    /// The name given to [`Executive::load_driver`](crate::Executive::load_driver).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The driver object's pointer count (1 while loaded, plus one per device
    /// and per reference taken on it).
    pub fn reference_count(&self) -> usize {
        self.inner
            .lock()
            .objects
            .get(&self.object.addr())
            .map_or(0, |rec| rec.refs)
    }
}

// SAFETY: the handle holds the driver object's memory (`objects::add_handle`
// at load, released only in `Drop`), so it stays at its address while
// `&self` lives; `as_raw` returns that one pointer.
unsafe impl ffi::KeepsDriverObject for Driver {
    fn driver_object(&self) -> PDRIVER_OBJECT {
        self.as_raw()
    }
}

impl Drop for Driver {
    /// The handle's hold on the driver object's memory ends (the driver is
    /// not unloaded).
    fn drop(&mut self) {
        objects::release_handle(&mut self.inner.lock(), self.object.addr());
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("name", &self.name)
            .field("object", &self.object)
            .finish()
    }
}

/// A device object of a [`Driver`], as a test holds it. The handle (and each
/// clone) keeps the DEVICE_OBJECT's memory while it exists, so pointers from
/// it stay dereferenceable; once the object manager has freed the device
/// (deleted and no reference left) the executive no longer accepts it, and
/// a dereference is bug check 0x18. (The host never gives a device's memory
/// back, handle or not: a driver's `Device<E>` holds its device by address,
/// and this handle's [`delete`](Self::delete), the default DriverUnload or
/// the executive's drop can drop the creator's reference behind it.)
pub struct Device {
    inner: Arc<Inner>,
    raw: Ptr<ffi::DEVICE_OBJECT>,
}

impl Device {
    /// The DEVICE_OBJECT. Its memory stays while this handle exists.
    pub fn as_raw(&self) -> PDEVICE_OBJECT {
        self.raw.0
    }

    /// The device's `DeviceExtension` (NULL without one).
    pub fn extension(&self) -> *mut c_void {
        // SAFETY: this handle keeps the device object's memory.
        unsafe { (*self.raw.0).DeviceExtension }
    }

    /// The `DeviceExtensionSize` the device was created with, as a debugger
    /// reads it: the object's `Size` field (`sizeof(DEVICE_OBJECT)` plus the
    /// extension, a `USHORT`) less `sizeof(DEVICE_OBJECT)`.
    pub fn extension_size(&self) -> usize {
        // SAFETY: this handle keeps the device object's memory; `Size` is
        // written once, by `IoCreateDevice`.
        let size = unsafe { (*self.raw.0).Size };
        usize::from(size.wrapping_sub(objects::DEVICE_OBJECT_SIZE as u16))
    }

    /// `IoDeleteDevice`: unlinks the device from its driver and drops the
    /// creation reference. A device still referenced (queued Io work,
    /// `ObfReferenceObject`) lives until the last reference drops; then it is
    /// freed and releases its driver object. Deleting twice dereferences
    /// twice, as on Windows.
    pub fn delete(&self) {
        let export = ffi::IoDeleteDevice as *const () as usize;
        objects::io_delete_device(&self.inner, self.raw.addr(), export);
    }

    /// Whether the object manager has freed the device (its last reference
    /// dropped).
    pub fn is_freed(&self) -> bool {
        self.inner.lock().freed.contains_key(&self.raw.addr())
    }

    /// The device's pointer count: 1 from creation until deleted, plus one
    /// per queued or running Io item and per `ObfReferenceObject`. 0 once freed.
    pub fn reference_count(&self) -> usize {
        self.inner
            .lock()
            .objects
            .get(&self.raw.addr())
            .map_or(0, |rec| rec.refs)
    }
}

// SAFETY: each `Device` handle counts in the object's handles, so its
// memory (object and extension) is not given back while `&self` lives,
// even after the object manager freed the object; `as_raw` is that pointer.
unsafe impl ffi::KeepsDeviceObject for Device {
    fn device_object(&self) -> PDEVICE_OBJECT {
        self.as_raw()
    }
}

impl Clone for Device {
    fn clone(&self) -> Self {
        objects::add_handle(&mut self.inner.lock(), self.raw.addr());
        Self {
            inner: Arc::clone(&self.inner),
            raw: self.raw,
        }
    }
}

impl Drop for Device {
    /// The handle's hold on the device object's memory ends (the device is
    /// not deleted).
    fn drop(&mut self) {
        objects::release_handle(&mut self.inner.lock(), self.raw.addr());
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("object", &self.raw)
            .field("reference_count", &self.reference_count())
            .finish()
    }
}
