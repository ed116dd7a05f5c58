//! The sensor driver's core on the host executive, driven as its shell drives
//! it in the kernel: load the driver, DriverEntry, AddDevice, the timer's DPC
//! at DISPATCH_LEVEL, device teardown, unload. Each test plays the shell and
//! the I/O manager; the host plays the kernel, with its bug checks.
//!
//! The driver's statics (its rundown, its spare report) are the image's: one
//! driver at a time, so the tests take [`image`] first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ntwork::ffi::STATUS_INSUFFICIENT_RESOURCES;
use ntwork::irql::{Dispatch, Passive};
use ntwork::{DeviceObject, DriverObject, WorkQueue, work_item};
use ntwork_host::{self as host, Executive, FailurePlan, FaultSite, bugcheck};
use sensor_core::{DRAIN_THRESHOLD, RING_CAPACITY, Sampled, Sensor, Stats};

const IMAGE: &str = "sensor.sys";

/// One loaded sensor driver at a time: its statics are the test binary's.
fn image() -> MutexGuard<'static, ()> {
    static IMAGE_LOCK: Mutex<()> = Mutex::new(());
    IMAGE_LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The timer's DPC, as the shell's routine runs it: at DISPATCH_LEVEL.
fn tick(sensor: &Arc<Sensor>, reading: u32) -> Sampled {
    host::at_dispatch_level(|| sensor_core::dpc(sensor, reading, &mut Dispatch::on_host()))
}

/// DriverEntry and one AddDevice, as the shell's.
fn started(exec: &Executive, irql: &mut Passive<'_>) -> (host::Driver, host::Device, Arc<Sensor>) {
    let host_driver = exec.load_driver(IMAGE);
    // A test that failed before its unload leaves the rundown to its driver
    // object: this one then fails here, `OtherDriver`; the first failure is
    // the one to read.
    sensor_core::driver_entry(DriverObject::of(&host_driver), irql).expect("DriverEntry");
    let host_device = host_driver.create_device();
    let sensor =
        sensor_core::device_added(DeviceObject::of(&host_device), irql).expect("AddDevice");
    (host_driver, host_device, sensor)
}

#[test]
fn readings_from_the_dpc_are_drained_at_passive_level_and_removal_takes_the_rest() {
    let _image = image();
    let exec = Executive::manual();
    let mut irql = Passive::on_host();
    let (host_driver, host_device, sensor) = started(&exec, &mut irql);

    let sampled: Vec<Sampled> = (1..=10).map(|n| tick(&sensor, n * 10)).collect();
    let queued_at: Vec<usize> = sampled
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == Sampled::Stored { drain_queued: true })
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        queued_at,
        [DRAIN_THRESHOLD],
        "queued once, at the threshold"
    );
    assert!(sampled.iter().all(|s| matches!(s, Sampled::Stored { .. })));
    assert_eq!(
        exec.pending(),
        1,
        "the readings after it join the pending run"
    );

    assert_eq!(exec.run_until_idle(), 1);
    let expected = Stats {
        samples: 10,
        sum: 550,
        min: 10,
        max: 100,
        batches: 1,
        dropped: 0,
    };
    assert_eq!(sensor.stats(&mut irql), expected);

    // Below the threshold: nothing queued; removal folds them in.
    for reading in [5, 7, 9] {
        assert_eq!(
            tick(&sensor, reading),
            Sampled::Stored {
                drain_queued: false
            }
        );
    }
    assert_eq!((exec.pending(), sensor.waiting(&mut irql)), (0, 3));
    let kept = Arc::clone(&sensor); // a DPC that still holds it
    let last = sensor_core::device_removed(sensor, &mut irql);
    assert_eq!(
        last,
        Stats {
            samples: 13,
            sum: 571,
            min: 5,
            batches: 2,
            ..expected
        }
    );
    assert_eq!(
        tick(&kept, 1),
        Sampled::Removed,
        "stored nothing after removal"
    );
    assert_eq!(exec.pending(), 0);
    drop(kept); // the last reference: the drain item and its device reference go

    assert_eq!(host_device.reference_count(), 1, "only its creation's");
    // The I/O manager unloads: ntwork's DriverUnload, the core's `unload`,
    // then the DriverUnload the host installed (it deletes the devices,
    // standing in for the shell's teardown).
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(host_device.is_freed());
    assert!(!exec.is_image_mapped(IMAGE), "nothing keeps the image");
    assert_eq!(
        exec.pool_outstanding(),
        0,
        "the spare report went at unload"
    );
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_full_ring_drops_readings_and_the_spare_report_carries_them() {
    let _image = image();
    let exec = Executive::manual();
    let mut irql = Passive::on_host();
    let (host_driver, _host_device, sensor) = started(&exec, &mut irql);

    for n in 0..RING_CAPACITY as u32 {
        assert!(matches!(tick(&sensor, n), Sampled::Stored { .. }));
    }
    let drops: Vec<Sampled> = (0..4).map(|n| tick(&sensor, 100 + n)).collect();
    assert_eq!(
        drops,
        [
            Sampled::Dropped { reported: true },
            Sampled::Dropped { reported: false },
            Sampled::Dropped { reported: false },
            Sampled::Dropped { reported: false },
        ],
        "one spare: the first drop takes it, the others wait for the next"
    );
    assert_eq!(exec.pending(), 2, "the drain and one report");
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(
        (
            sensor_core::dropped_readings_reported(),
            sensor_core::overflow_reports()
        ),
        (1, 1)
    );
    let stats = sensor.stats(&mut irql);
    assert_eq!((stats.samples, stats.dropped), (RING_CAPACITY as u64, 4));

    // The report's routine armed a new spare: the next drop reports the
    // three that waited, and itself.
    for n in 0..RING_CAPACITY as u32 {
        tick(&sensor, n);
    }
    assert_eq!(tick(&sensor, 1), Sampled::Dropped { reported: true });
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(sensor_core::dropped_readings_reported(), 5);
    assert_eq!(sensor_core::overflow_reports(), 2);

    let last = sensor_core::device_removed(sensor, &mut irql);
    assert_eq!((last.samples, last.dropped), (2 * RING_CAPACITY as u64, 5));
    assert_eq!(host_driver.unload(), Ok(()));
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn under_driver_verifier_the_unload_leaves_no_pool_behind() {
    let _image = image();
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let mut irql = Passive::on_host();
    let (host_driver, host_device, sensor) = started(&exec, &mut irql);
    for n in 0..=RING_CAPACITY as u32 {
        tick(&sensor, n);
    }
    assert_eq!(
        exec.run_until_idle(),
        2,
        "a drain and a report, which re-arms the spare"
    );
    sensor_core::device_removed(sensor, &mut irql);
    assert!(
        exec.pool_outstanding() >= 1,
        "the spare report is allocated until the unload"
    );
    // If the core's `unload` left the spare in its static, the image would
    // go with the block allocated: 0xC4/0x62 (`tests/overwritten_unload.rs`).
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(host_device.is_freed());
    assert!(
        !exec.is_image_mapped(IMAGE),
        "the leak check ran, and passed"
    );
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

/// A gate a test routine waits at, holding the executive's one worker.
#[derive(Default)]
struct Gate {
    state: Mutex<(bool, bool)>, // (entered, open)
    changed: Condvar,
}

impl Gate {
    fn set(&self, f: impl FnOnce(&mut (bool, bool))) {
        f(&mut self.state.lock().unwrap());
        self.changed.notify_all();
    }

    fn wait_for(&self, what: impl Fn(&(bool, bool)) -> bool) {
        let state = self.state.lock().unwrap();
        drop(self.changed.wait_while(state, |s| !what(s)).unwrap());
    }
}

/// Holds the worker until the test opens the gate. Driver-bound, so the
/// queue references the driver object (the image) until it returns.
#[work_item(driver)]
fn hold_the_worker(_driver: &DriverObject, gate: Arc<Gate>) {
    gate.set(|s| s.0 = true);
    gate.wait_for(|s| s.1);
}

#[test]
fn the_unload_waits_for_an_overflow_report_still_queued() {
    let _image = image();
    let exec = Executive::new();
    exec.set_max_workers(1);
    let mut irql = Passive::on_host();
    let (host_driver, host_device, sensor) = started(&exec, &mut irql);

    let gate = Arc::new(Gate::default());
    hold_the_worker::queue(
        DriverObject::of(&host_driver),
        Arc::clone(&gate),
        WorkQueue::Delayed,
        &irql,
    )
    .expect("IoAllocateWorkItem");
    gate.wait_for(|s| s.0);
    // Behind it: the drain, then the report.
    for n in 0..=RING_CAPACITY as u32 {
        tick(&sensor, n);
    }
    assert_eq!(exec.pending(), 2);

    let opened = Arc::new(AtomicBool::new(false));
    let opener = std::thread::spawn({
        let (gate, opened) = (Arc::clone(&gate), Arc::clone(&opened));
        move || {
            std::thread::sleep(Duration::from_millis(100));
            opened.store(true, Ordering::SeqCst);
            gate.set(|s| s.1 = true);
        }
    });
    // ntwork's DriverUnload waits for the report (counted in the core's
    // rundown) before the core's `unload`; had it not, the report would run
    // in an unmapped image: 0xCE.
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(
        opened.load(Ordering::SeqCst),
        "it returned only after the gate opened"
    );
    assert_eq!(
        sensor_core::overflow_reports(),
        1,
        "and after the report ran"
    );
    opener.join().unwrap();

    // The device was deleted by the unload while the sensor held it: it
    // lives until the sensor goes.
    assert!(!host_device.is_freed());
    sensor_core::device_removed(sensor, &mut irql);
    exec.wait_idle();
    assert!(host_device.is_freed());
    assert!(!exec.is_image_mapped(IMAGE));
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_sensor_left_in_a_deleted_device_keeps_the_image_mapped() {
    let _image = image();
    let exec = Executive::manual();
    let mut irql = Passive::on_host();
    let (host_driver, host_device, sensor) = started(&exec, &mut irql);
    tick(&sensor, 1);
    // The shell's mistake: IoDeleteDevice without `device_removed`. The
    // device extension's memory goes without running its destructor, as
    // forgetting the `Arc` does here.
    std::mem::forget(sensor);
    assert_eq!(host_driver.unload(), Ok(()), "DriverUnload runs");
    // Windows's verdict is no bug check but a driver that never finishes
    // unloading: the drain item still references the device, the device its
    // driver object, and so the image stays.
    assert_eq!(host_device.reference_count(), 1, "the leaked item's");
    assert!(!host_device.is_freed());
    assert!(exec.is_image_mapped(IMAGE));
    assert_eq!(exec.io_work_items_outstanding(), 1);
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_dispatch_proof_claimed_at_passive_level_is_a_host_diagnostic() {
    let _image = image();
    let exec = Executive::manual();
    let host_driver = exec.load_driver(IMAGE);
    let host_device = host_driver.create_device();
    let irql = Passive::on_host();
    let sensor = sensor_core::device_added(DeviceObject::of(&host_device), &irql).unwrap();
    // The shell's mistake: a "sample now" path at PASSIVE_LEVEL that calls
    // the DPC's code with the DPC's proof.
    // SAFETY: deliberately false (PASSIVE_LEVEL); the host checks the claim.
    let mut wrong = unsafe { Dispatch::assume() };
    let _ = sensor_core::dpc(&sensor, 1, &mut wrong);
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_PROOF);
    assert!(stop.is_host_diagnostic());
    assert_eq!(
        (stop.parameters[0], stop.parameters[1]),
        (2, 0),
        "claimed DISPATCH_LEVEL, ran at PASSIVE_LEVEL"
    );
}

#[test]
fn driver_entry_and_add_device_fail_cleanly_on_low_resources() {
    let _image = image();
    let exec = Executive::manual();
    let host_driver = exec.load_driver(IMAGE);
    let installed = host_driver.unload_routine().map(|f| f as usize);
    let mut irql = Passive::on_host();

    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    assert_eq!(
        sensor_core::driver_entry(DriverObject::of(&host_driver), &mut irql),
        Err(STATUS_INSUFFICIENT_RESOURCES)
    );
    assert_eq!(
        host_driver.unload_routine().map(|f| f as usize),
        installed,
        "nothing registered: DriverUnload is the one it was"
    );
    assert_eq!(exec.pool_outstanding(), 0);

    let host_device = host_driver.create_device();
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Next(1));
    let added = sensor_core::device_added(DeviceObject::of(&host_device), &irql);
    assert!(matches!(added, Err(STATUS_INSUFFICIENT_RESOURCES)));
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(host_device.reference_count(), 1, "no reference kept");

    // Nothing of the core is left: the driver unloads with the DriverUnload
    // it had before (the host's).
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(!exec.is_image_mapped(IMAGE));
    assert_eq!(exec.bug_check(), None);
}
