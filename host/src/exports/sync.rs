//! Rundown protection, critical regions and `KeDelayExecutionThread`.

#![allow(non_snake_case)]

use ntwork_sys::{BOOLEAN, EX_RUNDOWN_REF, KPROCESSOR_MODE, NTSTATUS, STATUS_SUCCESS};

/// `ExInitializeRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExInitializeRundownProtection(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: `RunRef` is a valid `EX_RUNDOWN_REF` (this export's contract),
    // so aligned; drivers treat it as opaque and reach it only through these
    // exports, which access it atomically.
    unsafe { crate::rundown::initialize(RunRef) }
}

/// `ExReInitializeRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExReInitializeRundownProtection(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: `RunRef` is a valid `EX_RUNDOWN_REF` (this export's contract),
    // so aligned; drivers treat it as opaque and reach it only through these
    // exports, which access it atomically.
    unsafe { crate::rundown::initialize(RunRef) }
}

/// `ExAcquireRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExAcquireRundownProtection(
    RunRef: *mut EX_RUNDOWN_REF,
) -> BOOLEAN {
    // SAFETY: `RunRef` is a valid `EX_RUNDOWN_REF` (this export's contract),
    // so aligned; drivers treat it as opaque and reach it only through these
    // exports, which access it atomically.
    BOOLEAN::from(unsafe { crate::rundown::acquire(RunRef) })
}

/// `ExReleaseRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF` the caller holds protection on.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExReleaseRundownProtection(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: `RunRef` is a valid `EX_RUNDOWN_REF` the caller holds
    // protection on (this export's contract), so aligned; drivers reach it
    // only through these exports, which access it atomically.
    unsafe { crate::rundown::release(RunRef) };
    crate::binding::note_release();
}

/// `ExWaitForRundownProtectionRelease`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExWaitForRundownProtectionRelease(
    RunRef: *mut EX_RUNDOWN_REF,
) {
    let export = ExWaitForRundownProtectionRelease as *const () as usize;
    // SAFETY: `RunRef` is a valid `EX_RUNDOWN_REF` (this export's contract),
    // so aligned; drivers treat it as opaque and reach it only through these
    // exports, which access it atomically.
    unsafe { crate::rundown::wait(RunRef, export) }
}

/// `ExRundownCompleted`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExRundownCompleted(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: `RunRef` is a valid `EX_RUNDOWN_REF` (this export's contract),
    // so aligned; drivers treat it as opaque and reach it only through these
    // exports, which access it atomically.
    unsafe { crate::rundown::completed(RunRef) }
}

/// `KeEnterCriticalRegion`.
///
/// # Safety
///
/// None.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn KeEnterCriticalRegion() {
    crate::irql::enter_critical_region();
}

/// `KeLeaveCriticalRegion`.
///
/// # Safety
///
/// None.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn KeLeaveCriticalRegion() {
    crate::irql::leave_critical_region();
}

/// `KeDelayExecutionThread`: sleeps for a relative interval (negative, in
/// 100 ns units); an absolute time (positive) sleeps not at all.
///
/// # Safety
///
/// `Interval` is valid for reads.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn KeDelayExecutionThread(
    WaitMode: KPROCESSOR_MODE,
    Alertable: BOOLEAN,
    Interval: *mut i64,
) -> NTSTATUS {
    let _ = (WaitMode, Alertable);
    // SAFETY: `Interval` is valid for reads (this export's contract) and,
    // pointing to an `i64` (`LARGE_INTEGER`), aligned.
    let interval = unsafe { Interval.read() };
    if interval < 0 {
        std::thread::sleep(std::time::Duration::from_nanos(
            interval.unsigned_abs() * 100,
        ));
    }
    STATUS_SUCCESS
}
