//! Fake drivers and devices: DRIVER_OBJECT / DEVICE_OBJECT memory, the object
//! manager's pointer counts, and driver unload (DriverUnload, then the image
//! unmapped when the driver object's last reference drops).

use core::fmt;
use std::boxed::Box;
use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::{self as ffi, PDEVICE_OBJECT};

use crate::bugcheck::{
    BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, HOST_UNKNOWN_OBJECT, REFERENCE_BY_POINTER,
};
use crate::executive::{DriverRec, DriverState, Inner, ObjectKind, ObjectRec, State};

/// `IO_TYPE_DRIVER`.
const IO_TYPE_DRIVER: i16 = 4;
/// `IO_TYPE_DEVICE`.
const IO_TYPE_DEVICE: i16 = 3;

/// The head of a DRIVER_OBJECT: `Type`, `Size`, `DeviceObject` at the x64 offsets.
#[repr(C)]
struct FakeDriverObject {
    kind: i16,
    size: u16,
    _reserved: u32,
    device_object: *mut FakeDeviceObject,
}

/// The head of a DEVICE_OBJECT: `Type`, `Size`, `ReferenceCount`,
/// `DriverObject`, `NextDevice` at the x64 offsets. The reference count the
/// executive keeps is [`Device::reference_count`]; this field stays 0.
#[repr(C)]
struct FakeDeviceObject {
    kind: i16,
    size: u16,
    reference_count: i32,
    driver_object: *mut FakeDriverObject,
    next_device: *mut FakeDeviceObject,
}

/// Every fake object ever made. Their memory is never given back (a stale
/// pointer in code under test must stay dereferenceable, so its use is a
/// diagnosed host error, not a crash); kept here, it stays reachable, which is
/// what it is.
static KEPT: crate::sync::Mutex<Vec<usize>> = crate::sync::Mutex::new(Vec::new());

fn keep(object: usize) {
    KEPT.lock().push(object);
}

/// Loads a driver on `inner`.
pub(crate) fn load(inner: &Arc<Inner>, name: &str) -> Driver {
    // Never freed: a DEVICE_OBJECT / DRIVER_OBJECT pointer handed to code
    // under test stays dereferenceable for the whole process, so a use after
    // the object manager "freed" it is a diagnosed host error, not a crash.
    let object = Box::into_raw(Box::new(FakeDriverObject {
        kind: IO_TYPE_DRIVER,
        size: size_of::<FakeDriverObject>() as u16,
        _reserved: 0,
        device_object: core::ptr::null_mut(),
    }));
    keep(object as usize);
    let name: Arc<str> = name.into();
    let mut st = inner.lock();
    let index = st.drivers.len();
    st.drivers.push(DriverRec {
        name: Arc::clone(&name),
        object: object as usize,
        state: DriverState::Loaded,
    });
    st.objects.insert(
        object as usize,
        ObjectRec {
            kind: ObjectKind::Driver,
            driver: index,
            // The I/O manager's reference, dropped after DriverUnload.
            refs: 1,
            deleted: false,
        },
    );
    Driver {
        inner: Arc::clone(inner),
        index,
        object: object as usize,
        name,
    }
}

/// The `Type` field value of an object kind (parameter 1 of 0x18 on the host).
fn type_code(kind: ObjectKind) -> usize {
    match kind {
        ObjectKind::Driver => IO_TYPE_DRIVER as usize,
        ObjectKind::Device => IO_TYPE_DEVICE as usize,
    }
}

impl Inner {
    /// `ObfReferenceObject` (and the Io queue's reference): the new count;
    /// an object the executive does not know is a host diagnostic.
    pub(crate) fn reference_locked(&self, st: &mut State, object: usize, export: usize) -> usize {
        match st.objects.get_mut(&object) {
            Some(rec) => {
                rec.refs += 1;
                rec.refs
            }
            None => {
                self.raise_locked(
                    st,
                    BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object, 0, 0]),
                );
                0
            }
        }
    }

    /// `ObfDereferenceObject` (and the end of an Io routine): the new count.
    /// At 0 the object is freed: a device drops its reference on its driver
    /// object, a driver object unmaps its image (the pool-leak check runs
    /// then). Below 0 is bug check 0x18.
    pub(crate) fn dereference_locked(&self, st: &mut State, object: usize, export: usize) -> usize {
        let Some(rec) = st.objects.get_mut(&object) else {
            let bad = if st.freed.contains(&object) {
                let kind = if st.drivers.iter().any(|d| d.object == object) {
                    ObjectKind::Driver
                } else {
                    ObjectKind::Device
                };
                BugCheck::new(REFERENCE_BY_POINTER, [type_code(kind), object, 0, 0])
            } else {
                BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object, 0, 0])
            };
            self.raise_locked(st, bad);
            return 0;
        };
        rec.refs -= 1;
        let refs = rec.refs;
        if refs > 0 {
            return refs;
        }
        let (kind, driver) = (rec.kind, rec.driver);
        st.objects.remove(&object);
        st.freed.insert(object);
        match kind {
            ObjectKind::Device => {
                let driver_object = st.drivers[driver].object;
                // SAFETY: fake objects are never freed; unlinking it from its
                // driver's device list happens under the executive's lock.
                unsafe { unlink_device(driver_object, object) };
                self.dereference_locked(st, driver_object, export);
            }
            ObjectKind::Driver => self.unmap_locked(st, driver),
        }
        0
    }

    /// The driver object's last reference dropped: the image is unmapped, and
    /// Driver Verifier's check for allocations the driver did not free runs.
    fn unmap_locked(&self, st: &mut State, driver: usize) {
        st.drivers[driver].state = DriverState::Unmapped;
        let io_items = st
            .io_items
            .values()
            .filter(|rec| rec.driver == driver)
            .count();
        let leaked = io_items + crate::pool::owned_by_driver(self, driver);
        if leaked > 0 {
            let name = st.drivers[driver].name.as_ptr() as usize;
            self.raise_locked(
                st,
                BugCheck::new(DRIVER_VERIFIER_DETECTED_VIOLATION, [0x62, name, 0, leaked]),
            );
        }
    }
}

/// Removes `device` from its driver object's `DeviceObject` list.
///
/// # Safety
///
/// Both are fake objects of this module, accessed under the executive's lock.
unsafe fn unlink_device(driver: usize, device: usize) {
    let driver = driver as *mut FakeDriverObject;
    let device = device as *mut FakeDeviceObject;
    // SAFETY: the function's contract: the list links only fake devices.
    unsafe {
        let mut link = &raw mut (*driver).device_object;
        while !(*link).is_null() {
            if *link == device {
                *link = (*device).next_device;
                return;
            }
            link = &raw mut (**link).next_device;
        }
    }
}

/// A fake driver loaded in an [`Executive`](crate::Executive). Its image
/// stays mapped until [`unload`](Self::unload) has run *and* the last
/// reference to its DRIVER_OBJECT has dropped (its devices and queued Io work
/// hold references), as on Windows.
pub struct Driver {
    inner: Arc<Inner>,
    index: usize,
    object: usize,
    name: Arc<str>,
}

impl Driver {
    /// Creates a device object of this driver (`IoCreateDevice`). The device
    /// holds a reference on the driver object until it is freed.
    pub fn create_device(&self) -> Device {
        let driver = self.object as *mut FakeDriverObject;
        let mut st = self.inner.lock();
        // SAFETY: the driver object is never freed; it is written under the
        // executive's lock only.
        let next = unsafe { (*driver).device_object };
        let device = Box::into_raw(Box::new(FakeDeviceObject {
            kind: IO_TYPE_DEVICE,
            size: size_of::<FakeDeviceObject>() as u16,
            reference_count: 0,
            driver_object: driver,
            next_device: next,
        }));
        keep(device as usize);
        // SAFETY: as above.
        unsafe { (*driver).device_object = device };
        st.objects.insert(
            device as usize,
            ObjectRec {
                kind: ObjectKind::Device,
                driver: self.index,
                refs: 1,
                deleted: false,
            },
        );
        if let Some(rec) = st.objects.get_mut(&self.object) {
            rec.refs += 1;
        }
        Device {
            inner: Arc::clone(&self.inner),
            raw: device as usize,
        }
    }

    /// Creates a KMDF device of this driver (`WdfDeviceCreate`), over a new
    /// WDM device object, for `WdfWorkItemCreate` parents.
    pub fn create_wdf_device(
        &self,
        config: crate::wdf::WdfDeviceConfig,
    ) -> crate::wdf::WdfDeviceHandle {
        crate::wdf::create_device(self.create_device(), config)
    }

    /// Runs `f` as this driver's code: Ex work it queues and pool it
    /// allocates are attributed to this driver (for the unload checks). Work
    /// routines run in their driver's context by themselves; with one driver
    /// loaded, every call is attributed to it.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        crate::executive::with_driver_context(&self.inner, Some(self.index), f)
    }

    /// DriverUnload has run: it deleted the driver's devices (`IoDeleteDevice`
    /// on each that is not deleted yet) and the I/O manager drops its
    /// reference on the driver object.
    ///
    /// As on Windows, Io work still queued or running is legal: it references
    /// its device or driver object, so the image stays mapped and the routine
    /// runs after DriverUnload. When the last reference drops, the image is
    /// unmapped ([`Executive::is_image_mapped`](crate::Executive::is_image_mapped))
    /// and Driver Verifier's check runs: `IO_WORKITEM`s or pool blocks of this
    /// driver not freed are bug check 0xC4/0x62 (parameter 2 the driver's
    /// [`name`](Self::name)`().as_ptr()`, parameter 4 how many). Ex work
    /// keeps nothing alive: an Ex routine of this driver dispatched after the
    /// unmap is bug check 0xCE (routine, 8, routine, 0), at dispatch.
    ///
    /// # Errors
    ///
    /// The bug check, if the executive is bug-checked already or the image
    /// was unmapped at once and the leak check failed.
    pub fn unload(self) -> Result<(), BugCheck> {
        let export = Self::unload as *const () as usize;
        // The framework deletes a KMDF driver's objects before it unloads.
        let own_devices: Vec<usize> = {
            let st = self.inner.lock();
            st.objects
                .iter()
                .filter(|(_, rec)| rec.driver == self.index && rec.kind == ObjectKind::Device)
                .map(|(&address, _)| address)
                .collect()
        };
        crate::wdf::dispose_for_devices(&own_devices);
        let mut st = self.inner.lock();
        if let Some(bug_check) = st.bug_check {
            return Err(bug_check);
        }
        st.drivers[self.index].state = DriverState::Unloaded;
        let devices: Vec<usize> = st
            .objects
            .iter()
            .filter(|(_, rec)| {
                rec.driver == self.index && rec.kind == ObjectKind::Device && !rec.deleted
            })
            .map(|(&address, _)| address)
            .collect();
        for device in devices {
            if let Some(rec) = st.objects.get_mut(&device) {
                rec.deleted = true;
            }
            self.inner.dereference_locked(&mut st, device, export);
        }
        self.inner.dereference_locked(&mut st, self.object, export);
        st.bug_check.map_or(Ok(()), Err)
    }

    /// The DRIVER_OBJECT.
    pub fn as_raw(&self) -> *mut ffi::DRIVER_OBJECT {
        self.object as *mut ffi::DRIVER_OBJECT
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
            .get(&self.object)
            .map_or(0, |rec| rec.refs)
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("name", &self.name)
            .field("object", &(self.object as *const ()))
            .finish()
    }
}

/// A fake device object of a [`Driver`]. Its memory is never given back, so
/// pointers to it stay dereferenceable; once the object manager has freed it
/// (deleted and no reference left) the executive no longer accepts it, and a
/// dereference is bug check 0x18.
#[derive(Clone)]
pub struct Device {
    inner: Arc<Inner>,
    raw: usize,
}

impl Device {
    /// The DEVICE_OBJECT.
    pub fn as_raw(&self) -> PDEVICE_OBJECT {
        self.raw as PDEVICE_OBJECT
    }

    /// `IoDeleteDevice`: drops the creation reference. A device still
    /// referenced (queued Io work, `ObfReferenceObject`) lives until the last
    /// reference drops; then it is freed and releases its driver object.
    /// Deleting twice is ignored.
    pub fn delete(&self) {
        let export = Self::delete as *const () as usize;
        let mut st = self.inner.lock();
        if st.bug_check.is_some() {
            return;
        }
        let Some(rec) = st.objects.get_mut(&self.raw) else {
            return;
        };
        if rec.deleted {
            return;
        }
        rec.deleted = true;
        self.inner.dereference_locked(&mut st, self.raw, export);
    }

    /// Whether the object manager has freed the device (deleted, and its last
    /// reference dropped).
    pub fn is_freed(&self) -> bool {
        self.inner.lock().freed.contains(&self.raw)
    }

    /// The device's pointer count: 1 from creation until deleted, plus one
    /// per queued or running Io item and per `ObfReferenceObject`. 0 once freed.
    pub fn reference_count(&self) -> usize {
        self.inner
            .lock()
            .objects
            .get(&self.raw)
            .map_or(0, |rec| rec.refs)
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("object", &(self.raw as *const ()))
            .field("reference_count", &self.reference_count())
            .finish()
    }
}
