//! The kernel declarations the shell uses beyond `ntwork::ffi`: in a
//! windows-drivers-rs driver the types are `wdk_sys::<same name>` and the
//! functions `wdk_sys::ntddk::<same name>` (bindgen's, from the WDK
//! headers), and this file does not exist. Declared as wdm.h does;
//! `shell/link/ntoskrnl.exports` lists the imports for the link. (The C
//! names are kept.)

#![allow(non_snake_case, non_camel_case_types, clippy::upper_case_acronyms)]

use core::ffi::c_void;

use ntwork::ffi::{NTSTATUS, PDEVICE_OBJECT, PDRIVER_OBJECT, ULONG, UNICODE_STRING};

/// `DO_DEVICE_INITIALIZING`: cleared by AddDevice once the device is ready.
pub(crate) const DO_DEVICE_INITIALIZING: ULONG = 0x80;

/// `DRIVER_ADD_DEVICE` (wdm.h: no convention, stdcall under `/Gz`).
/// wdk-sys: `wdk_sys::PDRIVER_ADD_DEVICE`.
pub(crate) type DriverAddDevice =
    unsafe extern "system" fn(driver: PDRIVER_OBJECT, pdo: PDEVICE_OBJECT) -> NTSTATUS;

/// `DRIVER_EXTENSION` (wdm.h), the part up to its service key.
/// wdk-sys: `wdk_sys::DRIVER_EXTENSION`.
#[repr(C)]
pub(crate) struct DRIVER_EXTENSION {
    pub(crate) DriverObject: PDRIVER_OBJECT,
    pub(crate) AddDevice: Option<DriverAddDevice>,
    pub(crate) Count: ULONG,
    pub(crate) ServiceKeyName: UNICODE_STRING,
}

/// `sizeof(KDPC)`: 0x40 on x86_64 and aarch64, 0x20 on x86
/// (`docs/driver-layout.md` has the sources).
const KDPC_SIZE: usize = if cfg!(target_pointer_width = "64") {
    0x40
} else {
    0x20
};

/// `sizeof(KTIMER)`: 0x40 on x86_64 and aarch64, 0x28 on x86.
const KTIMER_SIZE: usize = if cfg!(target_pointer_width = "64") {
    0x40
} else {
    0x28
};

/// `KDPC`: opaque to drivers (wdm.h gives its layout so they can allocate
/// it), 8-byte aligned. wdk-sys: `wdk_sys::KDPC`.
#[repr(C, align(8))]
pub(crate) struct KDPC([u8; KDPC_SIZE]);

/// `KTIMER`: opaque to drivers, 8-byte aligned (its due time is a 64-bit
/// integer). wdk-sys: `wdk_sys::KTIMER`.
#[repr(C, align(8))]
pub(crate) struct KTIMER([u8; KTIMER_SIZE]);

impl KDPC {
    /// Storage for `KeInitializeDpc` (the kernel writes every field).
    pub(crate) const fn zeroed() -> Self {
        Self([0; size_of::<Self>()])
    }
}

impl KTIMER {
    /// Storage for `KeInitializeTimer` (the kernel writes every field).
    pub(crate) const fn zeroed() -> Self {
        Self([0; size_of::<Self>()])
    }
}

/// `KDEFERRED_ROUTINE` (wdm.h: no convention, stdcall under `/Gz`).
/// wdk-sys: `wdk_sys::PKDEFERRED_ROUTINE`.
pub(crate) type KDeferredRoutine = unsafe extern "system" fn(
    dpc: *mut KDPC,
    deferred_context: *mut c_void,
    system_argument1: *mut c_void,
    system_argument2: *mut c_void,
);

// `LARGE_INTEGER` by value is an `i64` in each of the three ABIs (a register
// on x86_64 and aarch64, 8 stack bytes on x86).
unsafe extern "system" {
    /// `VOID KeInitializeDpc(PRKDPC, PKDEFERRED_ROUTINE, PVOID)`. Any IRQL.
    pub(crate) fn KeInitializeDpc(
        Dpc: *mut KDPC,
        DeferredRoutine: Option<KDeferredRoutine>,
        DeferredContext: *mut c_void,
    );

    /// `VOID KeInitializeTimer(PKTIMER)`. IRQL <= DISPATCH_LEVEL.
    pub(crate) fn KeInitializeTimer(Timer: *mut KTIMER);

    /// `BOOLEAN KeSetTimerEx(PKTIMER, LARGE_INTEGER, LONG, PKDPC)`: due time
    /// in 100 ns units (negative: relative), period in milliseconds.
    /// IRQL <= DISPATCH_LEVEL.
    pub(crate) fn KeSetTimerEx(Timer: *mut KTIMER, DueTime: i64, Period: i32, Dpc: *mut KDPC)
    -> u8;

    /// `BOOLEAN KeCancelTimer(PKTIMER)`: dequeues the timer; a DPC already
    /// queued still runs. IRQL <= DISPATCH_LEVEL.
    pub(crate) fn KeCancelTimer(Timer: *mut KTIMER) -> u8;

    /// `VOID KeFlushQueuedDpcs(VOID)`: returns once every DPC queued before
    /// the call has run. PASSIVE_LEVEL.
    pub(crate) fn KeFlushQueuedDpcs();

    /// `ULONG64 KeQueryInterruptTimePrecise(PULONG64)`: the time since boot
    /// in 100 ns units, and the performance counter it was read from.
    /// Windows 8.1 and later; any IRQL. (`KeQueryPerformanceCounter` is
    /// hal.dll's, and the image imports from ntoskrnl.exe alone.)
    pub(crate) fn KeQueryInterruptTimePrecise(QpcTimeStamp: *mut u64) -> u64;
}
