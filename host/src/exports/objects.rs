//! Object references, device objects and driver-object extensions.

#![allow(non_snake_case)]

use core::ffi::c_void;

use ntwork_sys::{
    BOOLEAN, DISPATCH_LEVEL, LONG_PTR, NTSTATUS, PASSIVE_LEVEL, PDEVICE_OBJECT, PDRIVER_OBJECT,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_OBJECT_NAME_COLLISION, STATUS_SUCCESS, ULONG,
    UNICODE_STRING,
};

use super::guarded;
use crate::binding::current;
use crate::bugcheck::{BugCheck, HOST_NULL_ARGUMENT, HOST_UNKNOWN_OBJECT};
use crate::faults::FaultSite;
use crate::objects::{self, irql_above};
use crate::state::{Inner, ObjectKind, State};

/// `ObfReferenceObject`.
///
/// # Safety
///
/// None beyond the kernel's.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ObfReferenceObject(Object: *mut c_void) -> LONG_PTR {
    let export = ObfReferenceObject as *const () as usize;
    guarded(0, || {
        let inner = current();
        let mut st = inner.lock();
        objects::reference_locked(&inner, &mut st, Object.addr(), export) as LONG_PTR
    })
}

/// `ObfDereferenceObject`.
///
/// # Safety
///
/// None beyond the kernel's.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ObfDereferenceObject(Object: *mut c_void) -> LONG_PTR {
    let export = ObfDereferenceObject as *const () as usize;
    guarded(0, || {
        let inner = current();
        let mut st = inner.lock();
        objects::dereference_locked(&inner, &mut st, Object.addr(), export) as LONG_PTR
    })
}

/// The driver index of a live driver object, or a host diagnostic.
fn driver_of(inner: &Inner, st: &mut State, object: usize, export: usize) -> Option<usize> {
    match st.objects.get(&object) {
        Some(rec) if rec.kind == ObjectKind::Driver => Some(rec.driver),
        _ => {
            let bad = BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object, 0, 0]);
            inner.raise_locked(st, bad);
            None
        }
    }
}

/// A host diagnostic for a NULL `pointer` (parameter `which`).
fn null_argument<T>(
    inner: &Inner,
    st: &mut State,
    pointer: *mut T,
    which: usize,
    export: usize,
) -> bool {
    if !pointer.is_null() {
        return false;
    }
    inner.raise_locked(st, BugCheck::new(HOST_NULL_ARGUMENT, [export, which, 0, 0]));
    true
}

/// `IoCreateDevice`: a device object with `DeviceExtensionSize` zeroed bytes
/// of extension, at the head of the driver's device list; the name,
/// characteristics and exclusivity are not modelled (the host has no object
/// namespace). `*DeviceObject` is NULL on failure
/// ([`FaultSite::IoCreateDevice`](crate::FaultSite::IoCreateDevice) injects
/// one). PASSIVE_LEVEL.
///
/// # Safety
///
/// `DeviceObject` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoCreateDevice(
    DriverObject: PDRIVER_OBJECT,
    DeviceExtensionSize: ULONG,
    DeviceName: *mut UNICODE_STRING,
    DeviceType: ULONG,
    DeviceCharacteristics: ULONG,
    Exclusive: BOOLEAN,
    DeviceObject: *mut PDEVICE_OBJECT,
) -> NTSTATUS {
    let export = IoCreateDevice as *const () as usize;
    let _ = (DeviceName, DeviceCharacteristics, Exclusive);
    guarded(STATUS_INSUFFICIENT_RESOURCES, || {
        let inner = current();
        let mut st = inner.lock();
        let object = DriverObject.addr();
        if st.bug_check.is_some()
            || null_argument(&inner, &mut st, DeviceObject, 7, export)
            || irql_above(&inner, &mut st, PASSIVE_LEVEL, object, export)
        {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        // SAFETY: checked non-NULL; the caller's out pointer. NULL until a
        // device exists, as Windows leaves it on failure.
        unsafe { DeviceObject.write(core::ptr::null_mut()) };
        let Some(driver) = driver_of(&inner, &mut st, object, export) else {
            return STATUS_INSUFFICIENT_RESOURCES;
        };
        if st.faults.should_fail(FaultSite::IoCreateDevice) {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        let size = DeviceExtensionSize as usize;
        let device = objects::create_device_locked(&mut st, driver, size, DeviceType, 0);
        // SAFETY: checked non-NULL; the caller's out pointer.
        unsafe { DeviceObject.write(device) };
        STATUS_SUCCESS
    })
}

/// `IoDeleteDevice`: unlinks the device and drops the creation reference
/// (again on a second call). PASSIVE_LEVEL.
///
/// # Safety
///
/// None beyond the kernel's.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoDeleteDevice(DeviceObject: PDEVICE_OBJECT) {
    let export = IoDeleteDevice as *const () as usize;
    guarded((), || {
        objects::io_delete_device(&current(), DeviceObject.addr(), export);
    });
}

/// `IoAllocateDriverObjectExtension`: zeroed nonpaged memory keyed by
/// `ClientIdentificationAddress`, freed with the driver object;
/// `STATUS_OBJECT_NAME_COLLISION` (and NULL) if the key has one. The out
/// pointer is set to NULL first, as Windows does. IRQL <= DISPATCH_LEVEL
/// (the DDI page; the kernel allocates nonpaged pool and links the extension
/// under a raise to DISPATCH_LEVEL).
///
/// # Safety
///
/// `DriverObjectExtension` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoAllocateDriverObjectExtension(
    DriverObject: PDRIVER_OBJECT,
    ClientIdentificationAddress: *mut c_void,
    DriverObjectExtensionSize: ULONG,
    DriverObjectExtension: *mut *mut c_void,
) -> NTSTATUS {
    let export = IoAllocateDriverObjectExtension as *const () as usize;
    guarded(STATUS_INSUFFICIENT_RESOURCES, || {
        let inner = current();
        let mut st = inner.lock();
        let object = DriverObject.addr();
        if st.bug_check.is_some()
            || null_argument(&inner, &mut st, DriverObjectExtension, 4, export)
        {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        // SAFETY: checked non-NULL; the caller's out pointer.
        unsafe { DriverObjectExtension.write(core::ptr::null_mut()) };
        if irql_above(&inner, &mut st, DISPATCH_LEVEL, object, export)
            || driver_of(&inner, &mut st, object, export).is_none()
        {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        if st.faults.should_fail(FaultSite::Pool) {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        let client = ClientIdentificationAddress.addr();
        let size = DriverObjectExtensionSize as usize;
        match objects::allocate_driver_extension(&mut st, object, client, size) {
            Some(extension) => {
                // SAFETY: `DriverObjectExtension` was checked non-NULL, so it
                // is valid for a write (this export's contract).
                unsafe { DriverObjectExtension.write(extension) };
                STATUS_SUCCESS
            }
            None => STATUS_OBJECT_NAME_COLLISION,
        }
    })
}

/// `IoGetDriverObjectExtension`: the extension keyed by
/// `ClientIdentificationAddress`, or NULL. IRQL <= DISPATCH_LEVEL.
///
/// # Safety
///
/// None beyond the kernel's.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoGetDriverObjectExtension(
    DriverObject: PDRIVER_OBJECT,
    ClientIdentificationAddress: *mut c_void,
) -> *mut c_void {
    let export = IoGetDriverObjectExtension as *const () as usize;
    guarded(core::ptr::null_mut(), || {
        let inner = current();
        let mut st = inner.lock();
        let object = DriverObject.addr();
        if st.bug_check.is_some()
            || irql_above(&inner, &mut st, DISPATCH_LEVEL, object, export)
            || driver_of(&inner, &mut st, object, export).is_none()
        {
            return core::ptr::null_mut();
        }
        objects::driver_extension(&st, object, ClientIdentificationAddress.addr())
    })
}
