//! Fake drivers and devices: DRIVER_OBJECT / DEVICE_OBJECT memory with
//! reference counts, and the checks of driver unload.

use core::fmt;
use std::boxed::Box;
use std::sync::Arc;
use std::vec::Vec;

use ntwork::ffi::{self, PDEVICE_OBJECT};

use crate::bugcheck::{
    BugCheck, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
    DRIVER_VERIFIER_DETECTED_VIOLATION,
};
use crate::executive::{Inner, ObjectKind, ObjectRec};

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

/// Loads a driver on `inner`.
pub(crate) fn load(inner: &Arc<Inner>, name: &str) -> Driver {
    // Leaked on purpose: a DEVICE_OBJECT / DRIVER_OBJECT pointer handed to code
    // under test stays dereferenceable for the whole process.
    let object = Box::into_raw(Box::new(FakeDriverObject {
        kind: IO_TYPE_DRIVER,
        size: size_of::<FakeDriverObject>() as u16,
        _reserved: 0,
        device_object: core::ptr::null_mut(),
    }));
    let mut st = inner.lock();
    let index = st.drivers;
    st.drivers += 1;
    st.objects.insert(
        object as usize,
        ObjectRec {
            kind: ObjectKind::Driver,
            driver: index,
            refs: 0,
        },
    );
    Driver {
        inner: Arc::clone(inner),
        index,
        object: object as usize,
        name: name.into(),
    }
}

/// A fake driver loaded in an [`Executive`](crate::Executive): its
/// DRIVER_OBJECT lives until the process ends.
pub struct Driver {
    inner: Arc<Inner>,
    index: usize,
    object: usize,
    name: Arc<str>,
}

impl Driver {
    /// Creates a device object of this driver (`IoCreateDevice`).
    pub fn create_device(&self) -> Device {
        let driver = self.object as *mut FakeDriverObject;
        let mut st = self.inner.lock();
        // SAFETY: the driver object is leaked, so live; it is written under
        // the executive's lock only.
        let next = unsafe { (*driver).device_object };
        let device = Box::into_raw(Box::new(FakeDeviceObject {
            kind: IO_TYPE_DEVICE,
            size: size_of::<FakeDeviceObject>() as u16,
            reference_count: 0,
            driver_object: driver,
            next_device: next,
        }));
        // SAFETY: as above.
        unsafe { (*driver).device_object = device };
        st.objects.insert(
            device as usize,
            ObjectRec {
                kind: ObjectKind::Device,
                driver: self.index,
                refs: 0,
            },
        );
        Device {
            inner: Arc::clone(&self.inner),
            raw: device as usize,
        }
    }

    /// Unloads the driver, with the checks of the kernel and Driver Verifier:
    ///
    /// 1. A device (or the driver object) still referenced by queued or
    ///    running Io work, or *any* Ex work queued or running in the executive,
    ///    is bug check 0xCE (the host cannot map an Ex routine's address to a
    ///    driver image, so every Ex item counts).
    /// 2. Else, `IO_WORKITEM`s of its objects not freed, or pool blocks of the
    ///    executive not freed (pool is tracked per executive, not per driver),
    ///    is bug check 0xC4 subcode 0x62, parameter 2 the driver's name
    ///    ([`name`](Self::name)`().as_ptr()`), parameter 4 how many.
    ///
    /// The bug check is recorded on the executive and returned. On a
    /// bug-checked executive, returns that bug check and does nothing.
    pub fn unload(self) -> Result<(), BugCheck> {
        let mut st = self.inner.lock();
        if let Some(bug_check) = st.bug_check {
            return Err(bug_check);
        }
        let objects: Vec<usize> = st
            .objects
            .iter()
            .filter(|(_, rec)| rec.driver == self.index)
            .map(|(&address, _)| address)
            .collect();
        let referenced = objects
            .iter()
            .copied()
            .find(|o| st.objects.get(o).is_some_and(|rec| rec.refs > 0));
        // The routine that would run in the unloaded image.
        let pending_routine = match referenced {
            Some(object) => Some(
                st.entries()
                    .map(|e| (e.routine, e.io_object))
                    .chain(st.running.iter().map(|r| (r.routine, r.io_object)))
                    .find(|&(_, o)| o == object)
                    .map_or(object, |(routine, _)| routine),
            ),
            None => st
                .entries()
                .map(|e| (e.routine, e.io_object))
                .chain(st.running.iter().map(|r| (r.routine, r.io_object)))
                .find(|&(_, o)| o == 0)
                .map(|(routine, _)| routine),
        };
        if let Some(routine) = pending_routine {
            let bug_check = BugCheck::new(
                DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
                [routine, 8, routine, 0],
            );
            self.inner.raise_locked(&mut st, bug_check);
            return Err(bug_check);
        }
        let io_items = st
            .io_items
            .values()
            .filter(|rec| objects.contains(&rec.io_object))
            .count();
        let leaked = io_items + crate::pool::owned_by(&self.inner);
        if leaked > 0 {
            let bug_check = BugCheck::new(
                DRIVER_VERIFIER_DETECTED_VIOLATION,
                [0x62, self.name.as_ptr() as usize, 0, leaked],
            );
            self.inner.raise_locked(&mut st, bug_check);
            return Err(bug_check);
        }
        for object in &objects {
            st.objects.remove(object);
        }
        Ok(())
    }

    /// The DRIVER_OBJECT.
    pub fn as_raw(&self) -> *mut ffi::DRIVER_OBJECT {
        self.object as *mut ffi::DRIVER_OBJECT
    }

    /// The name given to [`Executive::load_driver`](crate::Executive::load_driver).
    pub fn name(&self) -> &str {
        &self.name
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

/// A fake device object of a [`Driver`]. Its memory is never freed, so
/// pointers to it stay valid; after the driver unloads, the executive no
/// longer accepts it (`IoAllocateWorkItem` is bug check 0xE4/3).
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

    /// References held by Io work queued or running on this device (0 after
    /// the driver unloaded).
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
