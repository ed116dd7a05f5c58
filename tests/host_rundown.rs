//! Rundown protection as ReactOS's `ex/rundown.c` and the DDI pages have it,
//! including a reference that starts run down (`Count == 1`:
//! `EX_RUNDOWN_ACTIVE` with no waiter), which `ntwork::Rundown::new()` uses
//! so that nothing is counted before DriverEntry arms it.

use ntwork::ffi::{self, EX_RUNDOWN_REF};
use ntwork_host::{Executive, bugcheck};

#[test]
fn a_reference_that_starts_run_down_refuses_acquire_until_reinitialized() {
    let exec = Executive::manual();
    let mut run_ref = EX_RUNDOWN_REF { Count: 1 };
    let r = &raw mut run_ref;
    // SAFETY: a valid EX_RUNDOWN_REF, used by this thread only.
    unsafe {
        assert_eq!(ffi::ExAcquireRundownProtection(r), 0, "run down: FALSE");
        assert_eq!((*r).Count, 1, "a failed acquire changes nothing");
        ffi::ExWaitForRundownProtectionRelease(r);
        assert_eq!((*r).Count, 1, "a wait on it returns at once, unchanged");
        ffi::ExRundownCompleted(r);
        assert_eq!((*r).Count, 1);
        ffi::ExReInitializeRundownProtection(r);
        assert_eq!((*r).Count, 0, "armed");
        assert_eq!(ffi::ExAcquireRundownProtection(r), 1);
        assert_eq!(ffi::ExAcquireRundownProtection(r), 1);
        assert_eq!((*r).Count, 4, "twice the holders");
        ffi::ExReleaseRundownProtection(r);
        ffi::ExReleaseRundownProtection(r);
        ffi::ExWaitForRundownProtectionRelease(r);
        assert_eq!((*r).Count, 1, "run down again, no waiter");
        assert_eq!(ffi::ExAcquireRundownProtection(r), 0);
    }
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_wait_that_must_block_above_apc_level_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let mut run_ref = EX_RUNDOWN_REF::new();
    let r = &raw mut run_ref;
    // No holder: nothing to wait for, so nothing to check (as on Windows).
    // SAFETY: a valid EX_RUNDOWN_REF, used by this thread only.
    ntwork_host::at_dispatch_level(|| unsafe { ffi::ExWaitForRundownProtectionRelease(r) });
    assert_eq!(exec.bug_check(), None);
    // SAFETY: a valid EX_RUNDOWN_REF, used by this thread only; no holder.
    unsafe {
        ffi::ExReInitializeRundownProtection(r);
        assert_eq!(ffi::ExAcquireRundownProtection(r), 1);
    }
    // SAFETY: a valid EX_RUNDOWN_REF, used by this thread only; a holder remains, so the wait would block.
    ntwork_host::at_dispatch_level(|| unsafe { ffi::ExWaitForRundownProtectionRelease(r) });
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_TOO_HIGH);
    assert_eq!(
        stop.parameters,
        [
            ffi::ExWaitForRundownProtectionRelease as *const () as usize,
            usize::from(ffi::DISPATCH_LEVEL),
            r as usize,
            usize::from(ffi::APC_LEVEL)
        ]
    );
    assert!(stop.is_host_diagnostic());
}
