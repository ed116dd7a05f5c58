//! Safe attacker programs, round 3: code that raises the IRQL with the one
//! safe raise there is (`SpinLock::lock`) and calls what the proof it gets
//! allows there; reusable items flushed from several threads and dropped in
//! their own routine; device extensions whose drop touches the device.
//! Each asserts what would fail if the attack got through (and runs under
//! ASan in `.ci/run`).

use ntwork::irql::{Dispatch, Passive};

use ntwork::{Rundown, SpinLock};
use ntwork_host::Executive;
use ntwork_suite::driver_object;

// ---- DriverEntry's calls under a spin lock ---------------------------------

/// `set_unload` takes a `Dispatch` proof (`IoAllocateDriverObjectExtension`
/// is documented at IRQL <= DISPATCH_LEVEL), so safe code may call it under a
/// spin lock. The host checked APC_LEVEL there and stopped the test with
/// `HOST_IRQL_TOO_HIGH`, which Windows never raises for it.
#[test]
fn set_unload_and_open_under_a_spin_lock_are_what_windows_allows() {
    static UNDER_LOCK: Rundown = Rundown::new();
    let exec = Executive::manual();
    let host_driver = exec.load_driver("locked.sys");
    let driver = driver_object(&host_driver);
    let lock = SpinLock::new(0_u32);
    let mut irql = Passive::on_host();
    lock.lock(&mut irql, |count, dispatch: &Dispatch<'_>| {
        driver.set_unload(|_, _| {}, dispatch).unwrap();
        UNDER_LOCK.open(driver, dispatch).unwrap();
        *count += 1;
    });
    assert_eq!(exec.bug_check(), None);
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(UNDER_LOCK.is_running_down(), "the unload waited for it");
    assert_eq!(exec.bug_check(), None);
}
