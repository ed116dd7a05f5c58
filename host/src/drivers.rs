//! Fake drivers and devices as a test holds them: [`Driver`] and [`Device`],
//! and driver unload (DriverUnload, then the image unmapped when the driver
//! object's last reference drops).

use core::fmt;
use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::{self as ffi, PDEVICE_OBJECT};

use crate::bugcheck::BugCheck;
use crate::context::with_driver_context;
use crate::objects;
use crate::state::{DriverState, Inner, ObjectKind, Ptr};

/// A fake driver loaded in an [`Executive`](crate::Executive). Its image
/// stays mapped until [`unload`](Self::unload) has run *and* the last
/// reference to its DRIVER_OBJECT has dropped (its devices and queued Io work
/// hold references), as on Windows.
pub struct Driver {
    inner: Arc<Inner>,
    index: usize,
    object: Ptr<ffi::DRIVER_OBJECT>,
    name: Arc<str>,
}

impl Driver {
    /// Loads a driver named `name` on `inner`.
    pub(crate) fn load(inner: &Arc<Inner>, name: &str) -> Driver {
        let name: Arc<str> = name.into();
        let (index, object) = objects::create_driver(inner, &name);
        Driver {
            inner: Arc::clone(inner),
            index,
            object: Ptr(object),
            name,
        }
    }

    /// Creates a device object of this driver (`IoCreateDevice`). The device
    /// holds a reference on the driver object until it is freed.
    pub fn create_device(&self) -> Device {
        let mut st = self.inner.lock();
        let raw = objects::create_device_locked(&mut st, self.index, 0, ffi::FILE_DEVICE_UNKNOWN);
        Device {
            inner: Arc::clone(&self.inner),
            raw: Ptr(raw),
        }
    }

    /// Runs `f` as this driver's code: Ex work it queues and pool it
    /// allocates are attributed to this driver (for the unload checks). Work
    /// routines run in their driver's context by themselves; with one driver
    /// loaded, every call is attributed to it.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        with_driver_context(&self.inner, Some(self.index), f)
    }

    /// DriverUnload has run: the routine in the driver object's
    /// `DriverUnload` field (if any) is called, the driver's devices are
    /// deleted (`IoDeleteDevice` on each that is not deleted yet) and the I/O
    /// manager drops its reference on the driver object.
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
        let object = self.object.0;
        // SAFETY: the host's driver object, never given back; the field is
        // the driver's to set.
        let routine = unsafe { (*object).DriverUnload };
        if let Some(routine) = routine {
            // SAFETY: the driver stored this routine for its driver object;
            // it runs at PASSIVE_LEVEL as the I/O manager calls it.
            self.run(|| unsafe { routine(object) });
        }
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
            objects::dereference_locked(&self.inner, &mut st, device, export);
        }
        objects::dereference_locked(&self.inner, &mut st, self.object.addr(), export);
        st.bug_check.map_or(Ok(()), Err)
    }

    /// The DRIVER_OBJECT.
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

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("name", &self.name)
            .field("object", &self.object)
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
    raw: Ptr<ffi::DEVICE_OBJECT>,
}

impl Device {
    /// The DEVICE_OBJECT.
    pub fn as_raw(&self) -> PDEVICE_OBJECT {
        self.raw.0
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
        let Some(rec) = st.objects.get_mut(&self.raw.addr()) else {
            return;
        };
        if rec.deleted {
            return;
        }
        rec.deleted = true;
        objects::dereference_locked(&self.inner, &mut st, self.raw.addr(), export);
    }

    /// Whether the object manager has freed the device (deleted, and its last
    /// reference dropped).
    pub fn is_freed(&self) -> bool {
        self.inner.lock().freed.contains(&self.raw.addr())
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

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("object", &self.raw)
            .field("reference_count", &self.reference_count())
            .finish()
    }
}
