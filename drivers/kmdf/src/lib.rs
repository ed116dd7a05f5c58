//! A KMDF driver on ntwork: `DriverEntry` creates the WDFDRIVER with
//! `EvtDriverDeviceAdd` and `EvtDriverUnload`; `EvtDriverDeviceAdd` creates
//! the WDFDEVICE and its work item (`work.rs`, the only file that uses
//! ntwork's safe API). `kmdf.rs` declares the two framework calls ntwork
//! does not (a wdk-sys driver calls them with `call_unsafe_wdf_function_binding!`).
//!
//! Linked into a `.sys` by `.ci/drivers` with a stand-in of the KMDF stub
//! library (`kmdf-stub/`), which defines `WdfFunctions_01033` (or the
//! chosen version's) and `WdfDriverGlobals`.

#![no_std]

// The panic handler, `_fltused` and `__CxxFrameHandler3` (no allocator: this
// driver uses no `alloc`).
extern crate driver_support;

mod kmdf;
mod work;

use ntwork::ffi::wdf::WDFDRIVER;
use ntwork::ffi::{NTSTATUS, PDRIVER_OBJECT, STATUS_SUCCESS, UNICODE_STRING};

/// The image's entry point (`/ENTRY:DriverEntry` here; with the real stub
/// library, `/ENTRY:FxDriverEntry`, which binds the framework and calls it).
///
/// # Safety
///
/// Called once by the framework's loader with the driver object, at PASSIVE_LEVEL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DriverEntry(
    driver: PDRIVER_OBJECT,
    registry_path: *mut UNICODE_STRING,
) -> NTSTATUS {
    let mut config = kmdf::WDF_DRIVER_CONFIG::init(device_add);
    config.EvtDriverUnload = Some(driver_unload);
    // SAFETY: the loader's driver object and registry path; a valid config.
    unsafe { kmdf::WdfDriverCreate(driver, registry_path, &mut config) }
}

/// `EvtDriverDeviceAdd`: the device, then its work item.
///
/// # Safety
///
/// Called by the framework with the driver and a device-init structure.
unsafe extern "system" fn device_add(
    _driver: WDFDRIVER,
    mut device_init: kmdf::PWDFDEVICE_INIT,
) -> NTSTATUS {
    let mut device = core::ptr::null_mut();
    // SAFETY: the framework's device-init structure, consumed by the call.
    let status = unsafe { kmdf::WdfDeviceCreate(&mut device_init, &mut device) };
    if status != STATUS_SUCCESS {
        return status;
    }
    // SAFETY: the device just created; the framework deletes it (and its
    // item with it) at removal, never during EvtDriverDeviceAdd.
    unsafe { work::device_added(device) }
}

/// `EvtDriverUnload`: the framework has deleted the devices and their items.
///
/// # Safety
///
/// Called once by the framework.
unsafe extern "system" fn driver_unload(_driver: WDFDRIVER) {}
