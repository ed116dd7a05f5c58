//! IRQL: what the runtime's IRQL proofs are checked with on the host
//! (`KeGetCurrentIrql`, and `KeBugCheckEx` for a proof that disagrees), and
//! the executive's spin locks, which raise the simulated IRQL.

#![allow(non_snake_case)]

use core::sync::atomic::{AtomicI32, Ordering};

use ntwork_sys::{DISPATCH_LEVEL, EX_SPIN_LOCK, KIRQL, ULONG};

use super::guarded;
use crate::binding::current;
use crate::bugcheck::{BugCheck, HOST_IRQL_ABOVE_DISPATCH};
use crate::irql::{current_irql, set_irql};

/// `KeGetCurrentIrql`: the calling thread's simulated IRQL (an intrinsic on
/// x64 and arm64 Windows; here an export, for the runtime's proof checks).
#[unsafe(no_mangle)]
pub(crate) extern "system" fn KeGetCurrentIrql() -> KIRQL {
    current_irql()
}

/// `KeBugCheckEx`: the executive stops with `BugCheckCode` and its
/// parameters, as any bug check it raises, and the call returns (a host never
/// unwinds out of the kernel). The runtime raises its IRQL-proof diagnostic
/// this way.
#[unsafe(no_mangle)]
pub(crate) extern "system" fn KeBugCheckEx(
    BugCheckCode: ULONG,
    P1: usize,
    P2: usize,
    P3: usize,
    P4: usize,
) {
    guarded((), || {
        current().raise(BugCheck::new(BugCheckCode, [P1, P2, P3, P4]))
    });
}

/// `ExAcquireSpinLockExclusive`: spins until the lock is free, takes it, and
/// raises the IRQL to `DISPATCH_LEVEL`; returns the IRQL on entry. Above
/// `DISPATCH_LEVEL` it is the host diagnostic `HOST_IRQL_ABOVE_DISPATCH` and
/// the lock is not taken.
///
/// # Safety
///
/// `SpinLock` is a live, aligned `EX_SPIN_LOCK` that is only used through
/// these exports.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExAcquireSpinLockExclusive(
    SpinLock: *mut EX_SPIN_LOCK,
) -> KIRQL {
    let old = current_irql();
    if old > DISPATCH_LEVEL {
        let export = ExAcquireSpinLockExclusive as *const () as usize;
        current().raise(BugCheck::new(
            HOST_IRQL_ABOVE_DISPATCH,
            [export, old.into(), SpinLock.addr(), 0],
        ));
        return old;
    }
    // SAFETY: the caller's contract: a live, aligned lock used only
    // atomically here.
    let lock = unsafe { AtomicI32::from_ptr(SpinLock) };
    set_irql(DISPATCH_LEVEL);
    while lock
        .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    old
}

/// `ExReleaseSpinLockExclusive`: releases the lock and restores `OldIrql`.
///
/// # Safety
///
/// `SpinLock` is a live, aligned `EX_SPIN_LOCK` the caller holds, acquired
/// at `OldIrql` through [`ExAcquireSpinLockExclusive`].
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExReleaseSpinLockExclusive(
    SpinLock: *mut EX_SPIN_LOCK,
    OldIrql: KIRQL,
) {
    // SAFETY: the caller's contract: a live, aligned lock used only
    // atomically here.
    let lock = unsafe { AtomicI32::from_ptr(SpinLock) };
    lock.store(0, Ordering::Release);
    set_irql(OldIrql);
}
