//! Rundown protection (`EX_RUNDOWN_REF`), with the kernel's encoding: `Count`
//! is twice the number of holders, bit 0 (`EX_RUNDOWN_ACTIVE`) set once a
//! rundown has started. `Count == 1` is a reference that is run down with no
//! waiter: acquire fails, a wait returns at once, re-initialize (0) arms it.
//! While a waiter waits, Windows stores its wait block's address in `Count`
//! (with bit 0); the host keeps the holders' count there instead, so code
//! must not read `Count` during a rundown (no driver does).

use core::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::binding::current;
use crate::bugcheck::{BugCheck, HOST_IRQL_TOO_HIGH, HOST_MANUAL_WAIT_BLOCKS};
use crate::dispatch::manual_wait_blocks;
use crate::irql::current_irql;

/// How long a wait on a manual executive polls before the host decides that
/// no thread will run the work it waits for.
const MANUAL_GRACE: Duration = Duration::from_millis(200);

use ntwork_sys::{APC_LEVEL, EX_RUNDOWN_REF};

const ACTIVE: usize = 1;
const ONE: usize = 2;

/// # Safety
///
/// `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed atomically.
unsafe fn count<'a>(run_ref: *mut EX_RUNDOWN_REF) -> &'a AtomicUsize {
    // SAFETY: `run_ref` points to an `EX_RUNDOWN_REF` (this fn's contract);
    // `&raw mut` names its `Count` field without a reference.
    let count = unsafe { &raw mut (*run_ref).Count };
    // SAFETY: `count` is the `usize` at offset 0 of a valid, aligned
    // `EX_RUNDOWN_REF`, so aligned for `AtomicUsize` (same size and
    // alignment), and only accessed atomically (this fn's contract).
    unsafe { AtomicUsize::from_ptr(count) }
}

/// `ExAcquireRundownProtection`.
///
/// # Safety
///
/// `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed atomically.
pub(crate) unsafe fn acquire(run_ref: *mut EX_RUNDOWN_REF) -> bool {
    // SAFETY: `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed
    // atomically (this fn's contract), as `count` requires.
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
/// `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed atomically;
/// the caller holds protection.
pub(crate) unsafe fn release(run_ref: *mut EX_RUNDOWN_REF) {
    // SAFETY: `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed
    // atomically (this fn's contract), as `count` requires.
    unsafe { count(run_ref) }.fetch_sub(ONE, Ordering::Release);
}

/// `ExWaitForRundownProtectionRelease`: starts the rundown and blocks until
/// every holder has released; on a reference with no holders (0, or already
/// run down: `EX_RUNDOWN_ACTIVE`, e.g. one that starts run down) it returns
/// at once, as ReactOS's `ExfWaitForRundownProtectionRelease` does. A wait
/// that must block above APC_LEVEL is the host diagnostic
/// [`HOST_IRQL_TOO_HIGH`], not polled. On a manual executive where the wait
/// could never end (items pending, none running, after a short grace),
/// raises the host diagnostic [`HOST_MANUAL_WAIT_BLOCKS`] and returns.
///
/// `export` is the exported function (parameter 1 of the diagnostic).
///
/// # Safety
///
/// `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed atomically.
pub(crate) unsafe fn wait(run_ref: *mut EX_RUNDOWN_REF, export: usize) {
    // SAFETY: `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed
    // atomically (this fn's contract), as `count` requires.
    let count = unsafe { count(run_ref) };
    count.fetch_or(ACTIVE, Ordering::AcqRel);
    // It must wait (holders remain): at PASSIVE_LEVEL or APC_LEVEL only.
    let irql = current_irql();
    if count.load(Ordering::Acquire) != ACTIVE && irql > APC_LEVEL {
        let bad = BugCheck::new(
            HOST_IRQL_TOO_HIGH,
            [export, irql.into(), run_ref.addr(), APC_LEVEL.into()],
        );
        current().raise(bad);
        return;
    }
    let started = Instant::now();
    let mut pause = Duration::from_micros(20);
    while count.load(Ordering::Acquire) != ACTIVE {
        // A manual executive runs work only when the test says so: a wait
        // for references that pending work holds would never end.
        if started.elapsed() >= MANUAL_GRACE {
            let inner = current();
            if let Some(pending) = manual_wait_blocks(&inner) {
                inner.raise(BugCheck::new(
                    HOST_MANUAL_WAIT_BLOCKS,
                    [export, run_ref.addr(), pending, 0],
                ));
                return;
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

/// `ExInitializeRundownProtection` / `ExReInitializeRundownProtection`.
///
/// # Safety
///
/// `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed atomically.
pub(crate) unsafe fn initialize(run_ref: *mut EX_RUNDOWN_REF) {
    // SAFETY: `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed
    // atomically (this fn's contract), as `count` requires.
    unsafe { count(run_ref) }.store(0, Ordering::Release);
}

/// `ExRundownCompleted`.
///
/// # Safety
///
/// `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed atomically.
pub(crate) unsafe fn completed(run_ref: *mut EX_RUNDOWN_REF) {
    // SAFETY: `run_ref` is a valid, aligned `EX_RUNDOWN_REF` only accessed
    // atomically (this fn's contract), as `count` requires.
    unsafe { count(run_ref) }.store(ACTIVE, Ordering::Release);
}
