//! Framework devices on the host's WDM devices, their queues, and the
//! layer's registration with a driver: as KMDF does, the framework displaces
//! the driver object's `DriverUnload` with its own, which deletes the
//! driver's framework objects before calling the displaced routine.

use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::wdf::{self as w, PFN_WDF_OBJECT_CONTEXT_CLEANUP};
use ntwork_sys::{self as ffi};

use super::lifetime::{delete, delete_devices_of};
use super::object::{Context, Header, Kind, Lifecycle, Object, handle_of, insert};
use crate::drivers::Driver;
use crate::objects::allocate_zeroed;
use crate::state::Ptr;
use crate::sync::Mutex;

/// Configuration of a host WDF device.
#[derive(Debug, Clone, Copy)]
pub struct WdfDeviceConfig {
    /// `WdfExecutionLevelPassive` (default false: the device inherits the
    /// driver's execution level, dispatch).
    pub passive: bool,
    /// `WdfSynchronizationScopeDevice` (default false: none).
    pub synchronized: bool,
    /// The device's `EvtCleanupCallback`.
    pub cleanup: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
}

impl Default for WdfDeviceConfig {
    /// Dispatch level (a device inherits the driver's default, dispatch),
    /// no synchronization, no cleanup.
    fn default() -> Self {
        Self {
            passive: false,
            synchronized: false,
            cleanup: None,
        }
    }
}

/// A host `WDFDEVICE` of a [`Driver`], over a WDM device. The handle (and
/// each clone) keeps the framework object's memory while it exists (not the
/// object: once the framework destroyed it, its functions refuse it).
#[derive(Clone)]
pub struct WdfDeviceHandle {
    header: Arc<Header>,
}

impl WdfDeviceHandle {
    /// The `WDFDEVICE`.
    pub fn as_raw(&self) -> w::WDFDEVICE {
        handle_of(&self.header).cast()
    }

    /// A `WDFQUEUE` of this device (a parent whose chain leads to the device).
    pub fn create_queue(&self) -> w::WDFQUEUE {
        let device = self.as_raw().addr();
        let driver = super::object::lock()
            .objects
            .get(&device)
            .map_or(Ptr(core::ptr::null_mut()), |o| o.driver);
        let object = Object {
            header: Header::new(),
            kind: Kind::Queue,
            lifecycle: Lifecycle::Created,
            refs: 1,
            parent: Some(device),
            children: Vec::new(),
            contexts: Vec::new(),
            driver,
        };
        insert(object).cast()
    }

    /// Removes the device (PnP removal: the framework deletes it): children
    /// first (work items flushed and disposed, their cleanup run), then the
    /// device's cleanup and its WDM device's `IoDeleteDevice`; the memory
    /// goes at the last reference.
    pub fn delete(&self) {
        let export = Self::delete as *const () as usize;
        delete(self.as_raw().addr(), export);
    }
}

// SAFETY: the handle holds an `Arc` of the header the handle value points
// to, so that memory stays while `&self` lives; `as_raw` is its address.
unsafe impl w::KeepsWdfDevice for WdfDeviceHandle {
    fn wdf_device(&self) -> w::WDFDEVICE {
        self.as_raw()
    }
}

impl core::fmt::Debug for WdfDeviceHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("WdfDeviceHandle")
            .field(&self.as_raw())
            .finish()
    }
}

impl PartialEq for WdfDeviceHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.header, &other.header)
    }
}

impl Eq for WdfDeviceHandle {}

impl Driver {
    /// Creates a KMDF device of this driver (`WdfDeviceCreate`), over a new
    /// WDM device object, for `WdfWorkItemCreate` parents. The first one
    /// binds the driver to the framework: its `DriverUnload` is displaced by
    /// the framework's, which deletes the driver's framework devices first.
    pub fn create_wdf_device(&self, config: WdfDeviceConfig) -> WdfDeviceHandle {
        displace_driver_unload(self.as_raw());
        let device = self.create_device();
        let header = Header::new();
        let contexts = config.cleanup.map(|cleanup| Context {
            info: Ptr(core::ptr::null_mut()),
            block: allocate_zeroed(0),
            cleanup: Some(cleanup),
            destroy: None,
        });
        let object = Object {
            header: Arc::clone(&header),
            kind: Kind::Device(super::object::DeviceState {
                device,
                passive: config.passive,
                synchronized: config.synchronized,
                lock: Arc::new(Mutex::new(())),
            }),
            lifecycle: Lifecycle::Created,
            refs: 1,
            parent: None,
            children: Vec::new(),
            contexts: contexts.into_iter().collect(),
            driver: Ptr(self.as_raw()),
        };
        insert(object);
        WdfDeviceHandle { header }
    }
}

/// The drivers bound to the framework, with the `DriverUnload` each had
/// before (what `WDF_DRIVER_GLOBALS.DisplaceDriverUnload` records).
static BOUND: Mutex<Vec<(Ptr<ffi::DRIVER_OBJECT>, ffi::PDRIVER_UNLOAD)>> = Mutex::new(Vec::new());

/// Puts the framework's unload routine in `driver`'s `DriverUnload`, once.
fn displace_driver_unload(driver: *mut ffi::DRIVER_OBJECT) {
    let mut bound = BOUND.lock();
    if bound.iter().any(|(d, _)| d.0 == driver) {
        return;
    }
    // SAFETY: the host's live driver object (a handle keeps it); its fields
    // are written by the driver's own code (here, the framework in it).
    let previous = unsafe { (*driver).DriverUnload.replace(framework_unload) };
    bound.push((Ptr(driver), previous));
}

/// The framework's DriverUnload: deletes the driver's framework devices (and
/// so their children), then calls the routine it displaced.
///
/// # Safety
///
/// `driver` is a driver object bound to the framework, being unloaded.
unsafe extern "system" fn framework_unload(driver: ffi::PDRIVER_OBJECT) {
    let export = framework_unload as *const () as usize;
    let previous = {
        let mut bound = BOUND.lock();
        let at = bound.iter().position(|(d, _)| d.0 == driver);
        at.map(|at| bound.swap_remove(at).1)
    };
    delete_devices_of(driver, export);
    if let Some(Some(routine)) = previous {
        // SAFETY: the routine the driver had stored for its driver object.
        unsafe { routine(driver) };
    }
}
