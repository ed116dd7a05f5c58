//! A shell mistake the host stops on as Driver Verifier does: storing its
//! own DriverUnload after the core's DriverEntry, C-style, replaces ntwork's
//! routine. Then nothing waits for the core's rundown and the core's
//! `unload` never runs, so the spare report stays allocated in its static
//! when the image goes: 0xC4/0x62.
//!
//! Its own test binary: the driver it leaves behind never unloads properly,
//! so its statics (the rundown it opened) are not reusable by another test.

use ntwork::DriverObject;
use ntwork::irql::Passive;
use ntwork_host::{self as host, BugCheck, Executive, UnloadError, bugcheck};

#[test]
fn a_driver_unload_stored_after_driver_entry_skips_the_core_and_leaks_its_spare() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let host_driver = exec.load_driver("sensor.sys");
    let mut irql = Passive::on_host();
    sensor_core::driver_entry(DriverObject::of(&host_driver), &mut irql).expect("DriverEntry");
    // The shell's mistake (`driver->DriverUnload = remove_devices;` after
    // DriverEntry's call into the core): ntwork's routine is gone.
    host_driver.set_unload(Some(host::delete_devices_on_unload));
    let name = host_driver.name().as_ptr().addr();
    assert_eq!(
        host_driver.unload(),
        Err(UnloadError::BugCheck(BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x62, name, 0, 1]
        ))),
        "one pool block left: the spare report"
    );
}
