//! Rundown protection (`EX_RUNDOWN_REF`), with the kernel's encoding: `Count`
//! is twice the number of holders, bit 0 set once a rundown has started.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ntwork::ffi::EX_RUNDOWN_REF;

const ACTIVE: usize = 1;
const ONE: usize = 2;

/// # Safety
///
/// `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed atomically.
unsafe fn count<'a>(run_ref: *mut EX_RUNDOWN_REF) -> &'a AtomicUsize {
    // SAFETY: the caller's contract; `Count` is a `usize` at offset 0.
    unsafe { AtomicUsize::from_ptr(&raw mut (*run_ref).Count) }
}

/// `ExAcquireRundownProtection`.
///
/// # Safety
///
/// As for [`count`].
pub(crate) unsafe fn acquire(run_ref: *mut EX_RUNDOWN_REF) -> bool {
    // SAFETY: forwarded.
    let count = unsafe { count(run_ref) };
    count
        .fetch_update(Ordering::Acquire, Ordering::Relaxed, |c| {
            (c & ACTIVE == 0).then(|| c + ONE)
        })
        .is_ok()
}

/// `ExReleaseRundownProtection`.
///
/// # Safety
///
/// As for [`count`]; the caller holds protection.
pub(crate) unsafe fn release(run_ref: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    unsafe { count(run_ref) }.fetch_sub(ONE, Ordering::Release);
}

/// `ExWaitForRundownProtectionRelease`.
///
/// # Safety
///
/// As for [`count`].
pub(crate) unsafe fn wait(run_ref: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    let count = unsafe { count(run_ref) };
    count.fetch_or(ACTIVE, Ordering::AcqRel);
    while count.load(Ordering::Acquire) != ACTIVE {
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// `ExInitializeRundownProtection` / `ExReInitializeRundownProtection`.
///
/// # Safety
///
/// As for [`count`].
pub(crate) unsafe fn initialize(run_ref: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    unsafe { count(run_ref) }.store(0, Ordering::Release);
}

/// `ExRundownCompleted`.
///
/// # Safety
///
/// As for [`count`].
pub(crate) unsafe fn completed(run_ref: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    unsafe { count(run_ref) }.store(ACTIVE, Ordering::Release);
}
