//! The simulated IRQL of each thread.
//!
//! Every thread starts at `PASSIVE_LEVEL`. Code under test raises it (as a DPC
//! or a spin lock would) with [`raise_irql`] or [`at_dispatch_level`]; the
//! exported kernel functions read it to detect calls at too high an IRQL, and
//! the workers check it after each routine returns.

use core::cell::Cell;

use ntwork_sys::{DISPATCH_LEVEL, HIGH_LEVEL, KIRQL, PASSIVE_LEVEL};

use crate::bugcheck::{BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION};

std::thread_local! {
    static IRQL: Cell<KIRQL> = const { Cell::new(PASSIVE_LEVEL) };
    /// `KernelApcDisable` as a count of nested critical regions.
    static CRITICAL: Cell<u32> = const { Cell::new(0) };
}

/// `KeEnterCriticalRegion`.
pub(crate) fn enter_critical_region() {
    CRITICAL.with(|c| c.set(c.get().wrapping_add(1)));
}

/// The thread's critical-region depth, reset to 0 (checked after a routine).
pub(crate) fn reset_critical_region() -> u32 {
    CRITICAL.with(|c| c.replace(0))
}

/// The thread's `CombinedApcDisable` as 0x01 reports it:
/// `(SpecialApcDisable << 16) | (KernelApcDisable as u16)`, where
/// `KernelApcDisable` counts down from 0 per open critical region (one open
/// region reads 0x0000FFFF; the host has no guarded regions).
pub(crate) fn combined_apc_disable() -> usize {
    combined_for(CRITICAL.with(Cell::get))
}

/// `CombinedApcDisable` for a critical-region depth (see
/// [`combined_apc_disable`]).
pub(crate) fn combined_for(depth: u32) -> usize {
    usize::from(0u16.wrapping_sub(depth as u16))
}

/// Puts back a depth saved by [`reset_critical_region`].
pub(crate) fn restore_critical_region(depth: u32) {
    CRITICAL.with(|c| c.set(depth));
}

/// `KeLeaveCriticalRegion`.
pub(crate) fn leave_critical_region() {
    CRITICAL.with(|c| c.set(c.get().wrapping_sub(1)));
}

/// The calling thread's IRQL (`KeGetCurrentIrql`).
pub fn current_irql() -> KIRQL {
    IRQL.with(Cell::get)
}

/// Sets the IRQL without any check (the executive's own use).
pub(crate) fn set_irql(new: KIRQL) -> KIRQL {
    IRQL.with(|irql| irql.replace(new))
}

/// `KeRaiseIrql`: raises the calling thread's IRQL to `new` and returns the old one.
///
/// Raising to a *lower* level, or above `HIGH_LEVEL`, is Driver Verifier's bug
/// check `0xC4` subcode `0x30` (current IRQL, requested IRQL, 0), recorded on the
/// thread's executive; the IRQL is then left unchanged.
pub fn raise_irql(new: KIRQL) -> KIRQL {
    let old = current_irql();
    if new < old || new > HIGH_LEVEL {
        crate::binding::current().raise(BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x30, old.into(), new.into(), 0],
        ));
        return old;
    }
    set_irql(new)
}

/// `KeLowerIrql`: lowers the calling thread's IRQL to `new`.
///
/// Lowering to a *higher* level is Driver Verifier's bug check `0xC4` subcode
/// `0x31` (current IRQL, requested IRQL, 0); the IRQL is then left unchanged.
pub fn lower_irql(new: KIRQL) {
    let old = current_irql();
    if new > old {
        crate::binding::current().raise(BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x31, old.into(), new.into(), 0],
        ));
        return;
    }
    set_irql(new);
}

/// Runs `f` at `DISPATCH_LEVEL`, as a DPC or code holding a spin lock would,
/// and restores the previous IRQL afterwards (also if `f` panics).
///
/// Called above `DISPATCH_LEVEL`, `f` runs at the current (higher) level.
pub fn at_dispatch_level<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(KIRQL);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_irql(self.0);
        }
    }
    let old = current_irql();
    let _restore = Restore(old);
    set_irql(old.max(DISPATCH_LEVEL));
    f()
}
