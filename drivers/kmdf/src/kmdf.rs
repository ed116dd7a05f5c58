//! The framework calls the driver makes that ntwork does not declare, through
//! ntwork-sys's version-checked table (`table_function`), as wdfdriver.h's and
//! wdfdevice.h's inline wrappers do.

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use ntwork::ffi::wdf::{
    PWDF_DRIVER_GLOBALS, WDF_OBJECT_ATTRIBUTES, WDFDEVICE, WDFDRIVER, WdfDriverGlobals,
    table_function,
};
use ntwork::ffi::{NTSTATUS, PDRIVER_OBJECT, ULONG, UNICODE_STRING};

/// `PWDFDEVICE_INIT`: opaque.
pub type PWDFDEVICE_INIT = *mut core::ffi::c_void;

/// `EVT_WDF_DRIVER_DEVICE_ADD` (wdfdriver.h: `NTAPI`).
pub type EVT_WDF_DRIVER_DEVICE_ADD =
    unsafe extern "system" fn(Driver: WDFDRIVER, DeviceInit: PWDFDEVICE_INIT) -> NTSTATUS;
/// `EVT_WDF_DRIVER_UNLOAD` (wdfdriver.h: `NTAPI`).
pub type EVT_WDF_DRIVER_UNLOAD = unsafe extern "system" fn(Driver: WDFDRIVER);

/// `WDF_DRIVER_CONFIG` (wdfdriver.h).
#[repr(C)]
pub struct WDF_DRIVER_CONFIG {
    pub Size: ULONG,
    pub EvtDriverDeviceAdd: Option<EVT_WDF_DRIVER_DEVICE_ADD>,
    pub EvtDriverUnload: Option<EVT_WDF_DRIVER_UNLOAD>,
    pub DriverInitFlags: ULONG,
    pub DriverPoolTag: ULONG,
}

impl WDF_DRIVER_CONFIG {
    /// `WDF_DRIVER_CONFIG_INIT`.
    pub fn init(device_add: EVT_WDF_DRIVER_DEVICE_ADD) -> Self {
        Self {
            Size: size_of::<Self>() as ULONG,
            EvtDriverDeviceAdd: Some(device_add),
            EvtDriverUnload: None,
            DriverInitFlags: 0,
            DriverPoolTag: 0,
        }
    }
}

/// `WdfDriverCreateTableIndex` and `WdfDeviceCreateTableIndex` (wdffuncenum.h, KMDF 1.0).
const WdfDriverCreateTableIndex: usize = 116;
const WdfDeviceCreateTableIndex: usize = 75;

/// `PFN_WDFDRIVERCREATE` (wdfdriver.h: `NTAPI`).
type PFN_WDFDRIVERCREATE = unsafe extern "system" fn(
    DriverGlobals: PWDF_DRIVER_GLOBALS,
    DriverObject: PDRIVER_OBJECT,
    RegistryPath: *const UNICODE_STRING,
    DriverAttributes: *mut WDF_OBJECT_ATTRIBUTES,
    DriverConfig: *mut WDF_DRIVER_CONFIG,
    Driver: *mut WDFDRIVER,
) -> NTSTATUS;

/// `PFN_WDFDEVICECREATE` (wdfdevice.h: `NTAPI`).
type PFN_WDFDEVICECREATE = unsafe extern "system" fn(
    DriverGlobals: PWDF_DRIVER_GLOBALS,
    DeviceInit: *mut PWDFDEVICE_INIT,
    DeviceAttributes: *mut WDF_OBJECT_ATTRIBUTES,
    Device: *mut WDFDEVICE,
) -> NTSTATUS;

/// `WdfDriverCreate`, without attributes or an out handle.
///
/// # Safety
///
/// From DriverEntry, with its arguments; the framework has bound the driver.
pub unsafe fn WdfDriverCreate(
    driver: PDRIVER_OBJECT,
    registry_path: *const UNICODE_STRING,
    config: *mut WDF_DRIVER_CONFIG,
) -> NTSTATUS {
    // SAFETY: the caller's contract; entry 116 is `PFN_WDFDRIVERCREATE`.
    unsafe {
        table_function::<PFN_WDFDRIVERCREATE, WdfDriverCreateTableIndex>()(
            WdfDriverGlobals,
            driver,
            registry_path,
            core::ptr::null_mut(),
            config,
            core::ptr::null_mut(),
        )
    }
}

/// `WdfDeviceCreate`, without attributes.
///
/// # Safety
///
/// From EvtDriverDeviceAdd, with its device-init structure.
pub unsafe fn WdfDeviceCreate(
    device_init: *mut PWDFDEVICE_INIT,
    device: *mut WDFDEVICE,
) -> NTSTATUS {
    // SAFETY: the caller's contract; entry 75 is `PFN_WDFDEVICECREATE`.
    unsafe {
        table_function::<PFN_WDFDEVICECREATE, WdfDeviceCreateTableIndex>()(
            WdfDriverGlobals,
            device_init,
            core::ptr::null_mut(),
            device,
        )
    }
}
