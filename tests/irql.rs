//! The host checks every IRQL proof against the IRQL it simulates: a wrong
//! `unsafe` claim, or a proof used after the IRQL moved under it, stops the
//! test as the labelled host diagnostic `HOST_IRQL_PROOF`, naming the call.
//! The proofs the runtime makes itself (a routine's, a spin lock's) agree.

use std::sync::atomic::{AtomicU8, Ordering};

use ntwork::irql::{Dispatch, Passive};
use ntwork::{DriverObject, Rundown, SpinLock, WorkQueue, ffi, work_item};
use ntwork_host::{BugCheck, Executive, at_dispatch_level, bugcheck};

/// The call a `HOST_IRQL_PROOF` stop names (its parameters 3 and 4).
fn named_call(stop: &BugCheck) -> &'static str {
    let [_, _, address, length] = stop.parameters;
    // SAFETY: the runtime passes the address and length of a `&'static str`.
    let bytes = unsafe { std::slice::from_raw_parts(address as *const u8, length) };
    std::str::from_utf8(bytes).expect("a call's name")
}

fn expect_proof_stop(exec: &Executive, level: u8, actual: u8, call: &str) {
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_PROOF, "{stop}");
    assert!(stop.is_host_diagnostic());
    assert_eq!(
        stop.parameters[..2],
        [usize::from(level), usize::from(actual)]
    );
    if cfg!(miri) {
        // Strict provenance: an address passed as a parameter cannot be read
        // back; the name's length is what Miri can check.
        assert_eq!(stop.parameters[3], call.len());
    } else {
        assert_eq!(named_call(&stop), call);
    }
}

#[test]
fn a_passive_claim_at_dispatch_level_is_a_host_diagnostic() {
    let exec = Executive::manual();
    at_dispatch_level(|| {
        // SAFETY: deliberately wrong: this code runs at DISPATCH_LEVEL.
        let _claim = unsafe { Passive::assume() };
    });
    expect_proof_stop(
        &exec,
        ffi::PASSIVE_LEVEL,
        ffi::DISPATCH_LEVEL,
        "Passive::assume",
    );
}

#[test]
fn a_dispatch_proof_at_passive_level_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let _claim = Dispatch::on_host();
    expect_proof_stop(
        &exec,
        ffi::DISPATCH_LEVEL,
        ffi::PASSIVE_LEVEL,
        "Dispatch::on_host",
    );
}

#[work_item]
fn noted(level: &'static AtomicU8) {
    level.store(ntwork_host::current_irql(), Ordering::SeqCst);
}

#[test]
fn a_proof_used_after_the_irql_was_raised_under_it_is_a_host_diagnostic() {
    static WORK: Rundown = Rundown::new();
    let exec = Executive::manual();
    let host_driver = exec.load_driver("raised.sys");
    let irql = Passive::on_host();
    let driver = DriverObject::of(&host_driver);
    driver.set_unload(|_, _| {}, &irql).unwrap();
    WORK.open(driver, &irql).unwrap();
    static LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);
    // Raised behind the proof's back (a raw KeRaiseIrql): the proof is stale.
    let old = ntwork_host::raise_irql(ffi::DISPATCH_LEVEL);
    let queued = noted::queue(&WORK, &LEVEL, WorkQueue::Delayed, &irql);
    ntwork_host::lower_irql(old);
    expect_proof_stop(
        &exec,
        ffi::PASSIVE_LEVEL,
        ffi::DISPATCH_LEVEL,
        "name::queue",
    );
    drop(queued);
}

#[test]
fn the_proofs_the_runtime_makes_agree_with_the_host() {
    static LOCK: SpinLock<u32> = SpinLock::new(0);
    static LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);
    static WORK: Rundown = Rundown::new();
    let exec = Executive::manual();
    let host_driver = exec.load_driver("agree.sys");
    let mut irql = Passive::on_host();
    let driver = DriverObject::of(&host_driver);
    driver.set_unload(|_, _| {}, &irql).unwrap();
    WORK.open(driver, &irql).unwrap();
    LOCK.lock(&mut irql, |value, dispatch| {
        assert_eq!(
            ntwork_host::current_irql(),
            ffi::DISPATCH_LEVEL,
            "the lock raised"
        );
        *value += 1;
        noted::queue(&WORK, &LEVEL, WorkQueue::Delayed, dispatch).unwrap();
    });
    assert_eq!(
        ntwork_host::current_irql(),
        ffi::PASSIVE_LEVEL,
        "the lock lowered"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        LEVEL.load(Ordering::SeqCst),
        ffi::PASSIVE_LEVEL,
        "the routine's proof"
    );
    assert_eq!(exec.bug_check(), None);
    host_driver.unload().unwrap();
}

/// The stop path of `tests/ui/fail/irql_ported_stop_dpc.rs`, fixed the way
/// the error's note says: the DPC queues a routine, which waits at
/// PASSIVE_LEVEL.
#[test]
fn the_ported_stop_dpc_queues_its_wait_to_a_routine() {
    use std::sync::atomic::AtomicBool;

    static PORT_WORK: Rundown = Rundown::new();
    static STOP_WORK: Rundown = Rundown::new();
    static STOPPING: AtomicBool = AtomicBool::new(false);
    static SLOW_DONE: AtomicBool = AtomicBool::new(false);
    static STOPPED_AFTER_SLOW: AtomicBool = AtomicBool::new(false);

    #[work_item(rundown = PORT_WORK)]
    fn slow() {
        std::thread::sleep(std::time::Duration::from_millis(20));
        SLOW_DONE.store(true, Ordering::SeqCst);
    }

    #[work_item(rundown = STOP_WORK)]
    fn finish_stop(irql: &Passive<'_>) {
        PORT_WORK.wait(irql);
        STOPPED_AFTER_SLOW.store(SLOW_DONE.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn stop_dpc(irql: &Dispatch<'_>) {
        STOPPING.store(true, Ordering::SeqCst);
        finish_stop::queue(WorkQueue::Delayed, irql).expect("pool");
    }

    let exec = Executive::new();
    let host_driver = exec.load_driver("stop.sys");
    let irql = Passive::on_host();
    let driver = DriverObject::of(&host_driver);
    driver.set_unload(|_, _| {}, &irql).unwrap();
    PORT_WORK.open(driver, &irql).unwrap();
    STOP_WORK.open(driver, &irql).unwrap();
    slow::queue(WorkQueue::Delayed, &irql).unwrap();
    at_dispatch_level(|| stop_dpc(&Dispatch::on_host()));
    exec.wait_idle();
    assert!(STOPPING.load(Ordering::SeqCst));
    assert!(
        STOPPED_AFTER_SLOW.load(Ordering::SeqCst),
        "the wait saw the slow routine return"
    );
    assert_eq!(exec.bug_check(), None);
}
