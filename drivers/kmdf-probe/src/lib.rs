//! A driver that calls a function its KMDF version lacks:
//! `WdfDriverOpenPersistentStateRegistryKey` is entry 451 of the table,
//! first in KMDF 1.25 (`wdffuncenum.h`; 1.23 has 451 entries). Built with
//! `kmdf-1-31` it compiles; with `kmdf-1-15` (444 entries) it must be a
//! compile error, pinned in `kmdf-1-15.stderr` by `.ci/drivers`.

#![no_std]
#![allow(non_upper_case_globals, non_snake_case)]

use core::ffi::c_void;

use ntwork_sys::NTSTATUS;
use ntwork_sys::wdf::{PWDF_DRIVER_GLOBALS, WDF_OBJECT_ATTRIBUTES, WDFDRIVER, table_function};

/// `WdfDriverOpenPersistentStateRegistryKeyTableIndex` (KMDF 1.25+).
const WdfDriverOpenPersistentStateRegistryKeyTableIndex: usize = 451;

/// `PFN_WDFDRIVEROPENPERSISTENTSTATEREGISTRYKEY` (wdfdriver.h, `NTAPI`).
type PfnWdfDriverOpenPersistentStateRegistryKey = unsafe extern "system" fn(
    DriverGlobals: PWDF_DRIVER_GLOBALS,
    Driver: WDFDRIVER,
    DesiredAccess: u32,
    KeyAttributes: *mut WDF_OBJECT_ATTRIBUTES,
    Key: *mut *mut c_void,
) -> NTSTATUS;

/// `WdfDriverOpenPersistentStateRegistryKey`.
///
/// # Safety
///
/// The framework has bound the driver; the pointers are valid.
pub unsafe fn open_persistent_state_key(driver: WDFDRIVER, key: *mut *mut c_void) -> NTSTATUS {
    // SAFETY: the caller's contract; entry 451 has this type.
    unsafe {
        table_function::<
            PfnWdfDriverOpenPersistentStateRegistryKey,
            WdfDriverOpenPersistentStateRegistryKeyTableIndex,
        >()(
            ntwork_sys::wdf::WdfDriverGlobals,
            driver,
            0x2_0019, // KEY_READ
            core::ptr::null_mut(),
            key,
        )
    }
}
