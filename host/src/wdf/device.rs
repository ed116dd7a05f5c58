//! Framework devices on the host's WDM devices, and the layer's
//! registration with a driver: the framework displaces the driver object's
//! `DriverUnload` with its own, which disposes the driver's framework objects
//! before calling the displaced routine.

use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::wdf::{self as w, PFN_WDF_OBJECT_CONTEXT_CLEANUP};
use ntwork_sys::{self as ffi};

use super::object::{Kind, Object, delete_object, dispose_for_devices, new_handle, with_objects};
use crate::drivers::{Device, Driver};
use crate::state::Ptr;
use crate::sync::Mutex;

/// Configuration of a host WDF device.
#[derive(Debug, Clone, Copy)]
pub struct WdfDeviceConfig {
    /// `WdfExecutionLevelPassive` (default true).
    pub passive: bool,
    /// `WdfSynchronizationScopeDevice` (default false: none).
    pub synchronized: bool,
    /// The device's `EvtCleanupCallback`.
    pub cleanup: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
}

impl Default for WdfDeviceConfig {
    fn default() -> Self {
        Self {
            passive: true,
            synchronized: false,
            cleanup: None,
        }
    }
}

/// A host `WDFDEVICE` of a [`Driver`](crate::Driver), over a WDM device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WdfDeviceHandle {
    handle: usize,
}

impl WdfDeviceHandle {
    /// The `WDFDEVICE`.
    pub fn as_raw(&self) -> w::WDFDEVICE {
        self.handle as w::WDFDEVICE
    }

    /// A `WDFQUEUE` of this device (a parent whose chain leads to the device).
    pub fn create_queue(&self) -> w::WDFQUEUE {
        let handle = new_handle();
        with_objects(|objects| {
            objects.insert(
                handle,
                Object {
                    kind: Kind::Queue,
                    parent: Some(self.handle),
                    children: Vec::new(),
                    context: None,
                    cleanup: None,
                    extra: Vec::new(),
                    disposing: false,
                },
            );
            if let Some(device) = objects.get_mut(&self.handle) {
                device.children.push(handle);
            }
        });
        handle as w::WDFQUEUE
    }

    /// Deletes the device (`WdfObjectDelete`, as PnP removal does): children
    /// first (work items flushed and disposed), then the device's cleanup.
    pub fn delete(&self) {
        let export = Self::delete as *const () as usize;
        delete_object(self.handle, export);
    }
}

/// Makes a WDF device over `device`.
fn create_device(device: Device, config: WdfDeviceConfig) -> WdfDeviceHandle {
    let handle = new_handle();
    with_objects(|objects| {
        objects.insert(
            handle,
            Object {
                kind: Kind::Device {
                    device,
                    passive: config.passive,
                    synchronized: config.synchronized,
                    lock: Arc::new(Mutex::new(())),
                },
                parent: None,
                children: Vec::new(),
                context: None,
                cleanup: config.cleanup,
                extra: Vec::new(),
                disposing: false,
            },
        );
    });
    WdfDeviceHandle { handle }
}

impl Driver {
    /// Creates a KMDF device of this driver (`WdfDeviceCreate`), over a new
    /// WDM device object, for `WdfWorkItemCreate` parents. The first one
    /// binds the driver to the framework: its `DriverUnload` is displaced by
    /// the framework's, which disposes the driver's framework objects first.
    pub fn create_wdf_device(&self, config: WdfDeviceConfig) -> WdfDeviceHandle {
        displace_driver_unload(self.as_raw());
        create_device(self.create_device(), config)
    }
}

/// The drivers bound to the framework, with the `DriverUnload` each had
/// before (`WDF_DRIVER_GLOBALS.DisplaceDriverUnload`).
static BOUND: Mutex<Vec<(Ptr<ffi::DRIVER_OBJECT>, ffi::PDRIVER_UNLOAD)>> = Mutex::new(Vec::new());

/// Puts the framework's unload routine in `driver`'s `DriverUnload`, once.
fn displace_driver_unload(driver: *mut ffi::DRIVER_OBJECT) {
    let mut bound = BOUND.lock();
    if bound.iter().any(|(d, _)| d.0 == driver) {
        return;
    }
    // SAFETY: the host's live driver object; its fields are written by the
    // driver's own code (here, the framework in it) at PASSIVE_LEVEL.
    let previous = unsafe { (*driver).DriverUnload.replace(framework_unload) };
    bound.push((Ptr(driver), previous));
}

/// The framework's DriverUnload: disposes the framework objects of the
/// driver's devices (the framework deletes a driver's objects before it
/// unloads), then calls the routine it displaced.
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
    let mut devices = Vec::new();
    // SAFETY: the driver object being unloaded; its device list is the I/O
    // manager's, walked at PASSIVE_LEVEL while nothing else changes it.
    unsafe {
        let mut device = (*driver).DeviceObject;
        while !device.is_null() {
            devices.push(device.addr());
            device = (*device).NextDevice;
        }
    }
    dispose_for_devices(&devices, export);
    if let Some(Some(routine)) = previous {
        // SAFETY: the routine the driver had stored for its driver object.
        unsafe { routine(driver) };
    }
}
