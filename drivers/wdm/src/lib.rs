//! A WDM driver on ntwork: `DriverEntry` registers `AddDevice` and installs
//! ntwork's `DriverUnload` (which waits for the driver's Ex work, then runs
//! `driver_unload`); `AddDevice` creates the device with its port as the
//! typed device extension (`ntwork::Device<Port>`); every work-item path
//! runs from there (`work.rs`, the only file that uses ntwork's safe API).
//! Linked into a `.sys` by `.ci/drivers`; what the kernel does not provide
//! is in `driver-support` (see `drivers/README.md`).
//!
//! The shape of a PnP driver without its IRP handling: the devices are
//! deleted in `DriverUnload` here, where a PnP driver deletes each at
//! `IRP_MN_REMOVE_DEVICE`.

#![no_std]

mod imports;
mod work;

use ntwork::DriverObject;
use ntwork::ffi::{
    NTSTATUS, PDEVICE_OBJECT, PDRIVER_OBJECT, STATUS_SUCCESS, ULONG, UNICODE_STRING,
};
use ntwork::irql::Passive;

/// The driver's allocator (wdk-alloc's role): ntwork's `alloc` feature
/// links the `alloc` crate, which needs one.
#[global_allocator]
static ALLOCATOR: driver_support::PoolAllocator = driver_support::PoolAllocator;

/// `DRIVER_ADD_DEVICE` (wdm.h: no convention, stdcall under `/Gz`).
type DriverAddDevice =
    unsafe extern "system" fn(driver: PDRIVER_OBJECT, pdo: PDEVICE_OBJECT) -> NTSTATUS;

/// `DRIVER_EXTENSION`, as in wdm.h (ntwork-sys declares only what ntwork uses).
#[repr(C)]
struct DriverExtension {
    driver_object: PDRIVER_OBJECT,
    add_device: Option<DriverAddDevice>,
    count: ULONG,
    service_key_name: UNICODE_STRING,
}

/// The image's entry point (`/ENTRY:DriverEntry`).
///
/// # Safety
///
/// Called once by the I/O manager with the driver object, at PASSIVE_LEVEL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DriverEntry(
    driver: PDRIVER_OBJECT,
    _registry_path: *mut UNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the I/O manager passes a valid driver object, with its
    // extension, that this routine may fill in.
    unsafe {
        let extension = (*driver).DriverExtension.cast::<DriverExtension>();
        (*extension).add_device = Some(add_device);
    }
    // SAFETY: this driver's object, alive until its DriverUnload returned;
    // nothing below stores another routine in its `DriverUnload`.
    let driver = unsafe { DriverObject::from_raw(driver) };
    // SAFETY: the I/O manager calls DriverEntry at PASSIVE_LEVEL; the proof
    // lives for this call.
    let irql = unsafe { Passive::assume() };
    match work::started(driver, driver_unload, &irql) {
        Ok(()) => STATUS_SUCCESS,
        Err(status) => {
            // A failed DriverEntry is unloaded without DriverUnload: wait for
            // the Ex work it queued here.
            driver.wait_for_rundowns(&irql);
            status
        }
    }
}

/// `AddDevice`: the functional device object and its port. PASSIVE_LEVEL.
///
/// # Safety
///
/// Called by the PnP manager with this driver's object and a PDO.
unsafe extern "system" fn add_device(driver: PDRIVER_OBJECT, _pdo: PDEVICE_OBJECT) -> NTSTATUS {
    // SAFETY: the PnP manager passes this driver's object, live for the call.
    let driver = unsafe { DriverObject::from_raw(driver) };
    // SAFETY: the PnP manager calls AddDevice at PASSIVE_LEVEL; the proof
    // lives for this call.
    let irql = unsafe { Passive::assume() };
    match work::device_added(driver, &irql) {
        Ok(()) => STATUS_SUCCESS,
        Err(status) => status,
    }
}

/// The driver's unload code, which ntwork's `DriverUnload` runs after every
/// Ex routine counted in the driver's rundown has returned: stop and delete
/// each device. PASSIVE_LEVEL.
fn driver_unload(driver: &DriverObject, irql: &mut Passive<'_>) {
    // SAFETY: the driver's device list (wdm.h's layout), read before any
    // entry is deleted; only this driver adds to it (AddDevice).
    let mut next = unsafe { (*driver.as_raw()).DeviceObject };
    while !next.is_null() {
        let device = next;
        // SAFETY: a live device of this driver, read before its delete.
        next = unsafe { (*device).NextDevice };
        // SAFETY: every device of this driver is one `work::device_added`
        // created; each is in the list once, and nothing uses it after.
        unsafe { work::device_removed(device, irql) };
    }
}
