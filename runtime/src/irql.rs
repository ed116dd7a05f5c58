//! IRQL facts as zero-sized proofs.
//!
//! The kernel's IRQL rules for work items (queue at most `DISPATCH_LEVEL`,
//! flush and rundown waits below it, paged memory at most `APC_LEVEL`) are
//! checked by SAL annotations and Static Driver Verifier in C. Here they are
//! types: an API that needs "at most DISPATCH_LEVEL" takes a proof of it, and
//! a proof exists only where the IRQL is known:
//!
//! - a work-item routine runs at `PASSIVE_LEVEL`, so `#[work_item]` hands its
//!   body a [`Passive`] proof when it asks for one (`irql: &Passive<'_>`);
//! - an entry point whose IRQL the kernel fixes (DriverEntry, DriverUnload,
//!   AddDevice, a DPC) makes its own with an `unsafe` constructor whose
//!   contract names the entry point ([`Passive::assume`], [`Dispatch::assume`]);
//! - raising the IRQL ([`SpinLock::lock`](crate::SpinLock::lock)) borrows the
//!   lower proof mutably for the scope and hands out a [`Dispatch`] one.
//!
//! Proofs are zero-sized, neither `Copy` nor `Send`, and borrowed for a scope,
//! so one cannot be kept past the code it was made for, sent to another
//! thread, or used while the IRQL is raised above it.
//!
//! Relations: an API that needs "at most DISPATCH_LEVEL" takes
//! `&impl AtMostDispatch` and accepts all three proofs; "at most APC_LEVEL"
//! ([`AtMostApc`]) accepts [`Passive`] and [`Apc`]; "PASSIVE_LEVEL"
//! ([`AtPassive`]) only [`Passive`]. A mistake is one error at the call, naming
//! the rule and the proof the code holds.
//!
//! On the host executive each proof is checked against the simulated IRQL
//! when it is made and when it is used: a wrong `unsafe` claim in a test is a
//! labelled host diagnostic, not a silent pass. In a driver the checks are
//! not compiled; proofs cost no instruction.

use core::marker::PhantomData;

use crate::ffi::{self, KIRQL};

/// The marker every proof carries: borrowed for `'a`, neither `Send` nor
/// `Sync` (IRQL is a property of the running thread and processor).
type Scope<'a> = PhantomData<(&'a mut (), *mut ())>;

/// Proof that the current thread runs at `PASSIVE_LEVEL` for `'a`.
pub struct Passive<'a>(Scope<'a>);

/// Proof that the current thread runs at `APC_LEVEL` for `'a` (inside a
/// guarded region, holding a fast mutex).
pub struct Apc<'a>(Scope<'a>);

/// Proof that the current thread runs at `DISPATCH_LEVEL` for `'a` (a DPC,
/// or holding a spin lock).
pub struct Dispatch<'a>(Scope<'a>);

mod sealed {
    pub trait Sealed {}
}

/// An IRQL proof: what level it stands for.
pub trait Irql: sealed::Sealed {
    /// The level the proof says the thread runs at.
    const LEVEL: KIRQL;
}

/// A proof that the IRQL is at most `DISPATCH_LEVEL`: what queueing work,
/// allocating nonpaged pool and creating items need.
#[diagnostic::on_unimplemented(
    message = "this call needs IRQL <= DISPATCH_LEVEL, and `{Self}` is not an IRQL proof",
    label = "not an IRQL proof",
    note = "pass the proof the code holds: `&Passive` in a work-item routine or DriverEntry, `&Dispatch` in a DPC or under a spin lock"
)]
pub trait AtMostDispatch: Irql {}

/// A proof that the IRQL is at most `APC_LEVEL`: what a rundown wait and
/// pageable code or memory need.
#[diagnostic::on_unimplemented(
    message = "this call waits or touches pageable memory, so it needs IRQL <= APC_LEVEL; this code holds a `{Self}` proof",
    label = "the IRQL this code runs at is too high",
    note = "a wait or a page fault at DISPATCH_LEVEL is a bug check (a DPC or spin-lock holder can do neither): call it from DriverUnload, a work-item routine or another PASSIVE_LEVEL path, and let the DPC queue work that does it"
)]
pub trait AtMostApc: AtMostDispatch {}

/// A proof that the IRQL is `PASSIVE_LEVEL`: what a flush and a device's
/// delete need.
#[diagnostic::on_unimplemented(
    message = "this call waits for a routine, so it needs PASSIVE_LEVEL; this code holds a `{Self}` proof",
    label = "the IRQL this code runs at is too high",
    note = "call it from a PASSIVE_LEVEL path (DriverUnload, IRP_MN_REMOVE_DEVICE, a work-item routine, EvtDeviceD0Exit), not from a DPC, under a spin lock or in a guarded region; a DPC queues a work item that does it"
)]
pub trait AtPassive: AtMostApc {}

// Written out, not generated: an unmet bound's help lists these lines.
impl sealed::Sealed for Passive<'_> {}
impl sealed::Sealed for Apc<'_> {}
impl sealed::Sealed for Dispatch<'_> {}

impl Irql for Passive<'_> {
    const LEVEL: KIRQL = ffi::PASSIVE_LEVEL;
}
impl Irql for Apc<'_> {
    const LEVEL: KIRQL = ffi::APC_LEVEL;
}
impl Irql for Dispatch<'_> {
    const LEVEL: KIRQL = ffi::DISPATCH_LEVEL;
}

impl AtMostDispatch for Passive<'_> {}
impl AtMostDispatch for Apc<'_> {}
impl AtMostDispatch for Dispatch<'_> {}
impl AtMostApc for Passive<'_> {}
impl AtMostApc for Apc<'_> {}
impl AtPassive for Passive<'_> {}

impl core::fmt::Debug for Passive<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Passive")
    }
}
impl core::fmt::Debug for Apc<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Apc")
    }
}
impl core::fmt::Debug for Dispatch<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Dispatch")
    }
}

impl Passive<'_> {
    /// The proof of code the kernel runs at `PASSIVE_LEVEL`.
    ///
    /// # Safety
    ///
    /// The calling thread runs at `PASSIVE_LEVEL` (DriverEntry, DriverUnload,
    /// AddDevice, a dispatch routine the kernel documents as PASSIVE_LEVEL, a
    /// work-item routine), and stays there while the proof is borrowed, except
    /// through a raise that borrows this proof mutably
    /// ([`SpinLock::lock`](crate::SpinLock::lock)).
    #[inline(always)]
    pub unsafe fn assume() -> Self {
        check(ffi::PASSIVE_LEVEL, "Passive::assume");
        Passive(PhantomData)
    }
}

impl Passive<'_> {
    /// The proof a work-item routine's body gets: every routine runs at
    /// `PASSIVE_LEVEL` on a system worker thread (the DDI pages of
    /// `WORKER_THREAD_ROUTINE`, `IO_WORKITEM_ROUTINE(_EX)`, `EVT_WDF_WORKITEM`).
    ///
    /// # Safety
    ///
    /// Called by ntwork's routine for the kernel, on the worker thread, before
    /// the routine's body; the proof lives no longer than the body.
    #[inline(always)]
    pub(crate) unsafe fn in_routine() -> Self {
        check(ffi::PASSIVE_LEVEL, "a work-item routine");
        Passive(PhantomData)
    }
}

impl Apc<'_> {
    /// The proof of code that runs at `APC_LEVEL`.
    ///
    /// # Safety
    ///
    /// The calling thread runs at `APC_LEVEL` (inside a guarded region,
    /// holding a fast mutex) and stays there while the proof is borrowed.
    #[inline(always)]
    pub unsafe fn assume() -> Self {
        check(ffi::APC_LEVEL, "Apc::assume");
        Apc(PhantomData)
    }
}

impl Dispatch<'_> {
    /// The proof of code the kernel runs at `DISPATCH_LEVEL`.
    ///
    /// # Safety
    ///
    /// The calling thread runs at `DISPATCH_LEVEL` (a DPC routine, a
    /// `CustomTimerDpc`, code holding a spin lock) and stays there while the
    /// proof is borrowed.
    #[inline(always)]
    pub unsafe fn assume() -> Self {
        check(ffi::DISPATCH_LEVEL, "Dispatch::assume");
        Dispatch(PhantomData)
    }

    /// The proof a raise hands out, for the raise's scope.
    ///
    /// # Safety
    ///
    /// The caller raised the IRQL to `DISPATCH_LEVEL` and lowers it only after
    /// the proof's borrow ends.
    #[inline(always)]
    pub(crate) unsafe fn raised() -> Self {
        Dispatch(PhantomData)
    }
}

/// Host builds only (the host executive's tests, on Linux): proofs for the
/// test's own threads, which the host simulates. Each is checked against the
/// simulated IRQL now and wherever it is used, so a test that claims the
/// wrong level gets the host's labelled diagnostic, not a silent pass. A
/// driver has no such constructor: its proofs come from its entry points.
#[cfg(any(feature = "std", all(panic = "unwind", unix)))]
impl Passive<'static> {
    /// The proof of a test thread at `PASSIVE_LEVEL` (where the host starts
    /// every thread).
    pub fn on_host() -> Self {
        check(ffi::PASSIVE_LEVEL, "Passive::on_host");
        Passive(PhantomData)
    }
}

#[cfg(any(feature = "std", all(panic = "unwind", unix)))]
impl Dispatch<'static> {
    /// The proof of a test's code at `DISPATCH_LEVEL` (inside
    /// `ntwork_host::at_dispatch_level`, as a DPC).
    pub fn on_host() -> Self {
        check(ffi::DISPATCH_LEVEL, "Dispatch::on_host");
        Dispatch(PhantomData)
    }
}

/// Checks a proof against the IRQL the thread runs at: on the host executive
/// (where the IRQL is simulated), a wrong claim or a proof used at the wrong
/// level stops the test as a labelled host diagnostic. In a driver this is not
/// compiled.
#[inline(always)]
pub(crate) fn verify<P: Irql>(_proof: &P, what: &'static str) {
    check(P::LEVEL, what);
}

#[inline(always)]
fn check(level: KIRQL, what: &'static str) {
    #[cfg(any(feature = "std", all(panic = "unwind", unix)))]
    host::check(level, what);
    #[cfg(not(any(feature = "std", all(panic = "unwind", unix))))]
    let _ = (level, what);
}

#[cfg(any(feature = "std", all(panic = "unwind", unix)))]
mod host {
    use crate::ffi::KIRQL;
    use crate::ffi::host::{KeBugCheckEx, KeGetCurrentIrql, NTWORK_HOST_IRQL_PROOF};

    /// Reports a proof that disagrees with the simulated IRQL to the host, as
    /// its labelled diagnostic.
    #[cold]
    fn disagree(level: KIRQL, actual: KIRQL, what: &'static str) {
        // SAFETY: the host's `KeBugCheckEx` records the stop and returns; its
        // parameters are plain values (the name's address is only reported).
        unsafe {
            KeBugCheckEx(
                NTWORK_HOST_IRQL_PROOF,
                level.into(),
                actual.into(),
                what.as_ptr().addr(),
                what.len(),
            )
        };
    }

    pub(super) fn check(level: KIRQL, what: &'static str) {
        // SAFETY: reading the simulated IRQL has no precondition.
        let actual = unsafe { KeGetCurrentIrql() };
        if actual != level {
            disagree(level, actual, what);
        }
    }
}
