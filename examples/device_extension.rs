//! A C driver's device-extension pattern, ported. In C:
//!
//! ```c
//! typedef struct _PORT_EXTENSION {
//!     PIO_WORKITEM Drain;      // IoAllocateWorkItem(fdo) in AddDevice
//!     KSPIN_LOCK   Lock;       // guards Samples, shared with the DPC
//!     ULONG        Samples[1024];
//!     ULONG        Count;
//!     LONG         Runs, Drained;
//! } PORT_EXTENSION;
//!
//! IoCreateDevice(DriverObject, sizeof(PORT_EXTENSION), NULL,
//!                FILE_DEVICE_UNKNOWN, 0, FALSE, &fdo);       // AddDevice
//! ext = fdo->DeviceExtension;                                 // DPC, routine
//! IoDeleteDevice(fdo);                                        // remove
//! ```
//!
//! Here AddDevice creates a `Device<PortExtension>` (the extension built once
//! the device exists, as C fills it in after IoCreateDevice) and gives it to
//! the device object; the DPC and the work item reach the extension through
//! the `&DeviceObject` they get; IRP_MN_REMOVE_DEVICE takes the device back,
//! flushes the item and deletes the device, which drops the extension once.
//!
//! ```text
//! cargo run --example device_extension
//! ```

use std::sync::atomic::{AtomicU32, Ordering};

use ntwork::ffi::{FILE_DEVICE_UNKNOWN, NTSTATUS, PDEVICE_OBJECT};
use ntwork::irql::{Dispatch, Passive};
use ntwork::{
    Device, DeviceObject, DeviceOptions, DriverObject, NotQueued, ReusableIoWorkItem, SpinLock,
    WorkQueue, work_item,
};
use ntwork_host::{self as host, Executive};

/// The samples the DPC collected since the last drain: a fixed buffer, as in
/// nonpaged C memory (nothing allocates at DISPATCH_LEVEL).
struct Samples {
    values: [u32; 1024],
    count: usize,
}

/// The device extension.
struct PortExtension {
    /// The port's one work item, queued again and again.
    drain: ReusableIoWorkItem<drain_samples>,
    samples: SpinLock<Samples>,
    runs: AtomicU32,
    drained: AtomicU32,
}

/// How many extensions were dropped (the example's check).
static DROPPED: AtomicU32 = AtomicU32::new(0);

impl Drop for PortExtension {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

/// The work item, at PASSIVE_LEVEL: takes everything the DPC collected.
#[work_item(device)]
fn drain_samples(device: &DeviceObject, _: (), irql: &mut Passive<'_>) {
    // None once the device is being deleted.
    let Some(port) = device.extension::<PortExtension>(irql) else {
        return;
    };
    let taken = port
        .samples
        .lock(irql, |samples, _| core::mem::replace(&mut samples.count, 0));
    port.drained.fetch_add(taken as u32, Ordering::SeqCst);
    port.runs.fetch_add(1, Ordering::SeqCst);
}

/// The DPC, at DISPATCH_LEVEL: record the sample, queue the drain unless it
/// is pending (that run picks the sample up). Whether it queued a run.
fn dpc(device: &DeviceObject, sample: u32, irql: &mut Dispatch<'_>) -> bool {
    let Some(port) = device.extension::<PortExtension>(irql) else {
        return false;
    };
    port.samples.lock(irql, |samples, _| {
        // Full: the sample is lost, as in C.
        if let Some(slot) = samples.values.get_mut(samples.count) {
            *slot = sample;
            samples.count += 1;
        }
    });
    match port.drain.queue((), WorkQueue::Delayed, irql) {
        Ok(()) => true,
        Err(refused) if refused.reason == NotQueued::AlreadyQueued => false,
        Err(refused) => panic!("the device is running: {refused}"),
    }
}

/// AddDevice, at PASSIVE_LEVEL: the functional device object and its
/// extension, given to the object until the remove.
fn add_device(driver: &DriverObject, irql: &Passive<'_>) -> Result<PDEVICE_OBJECT, NTSTATUS> {
    let options = DeviceOptions::new(FILE_DEVICE_UNKNOWN);
    let device = Device::create_with(driver, options, irql, |fdo| {
        Ok::<_, NTSTATUS>(PortExtension {
            drain: ReusableIoWorkItem::new(fdo, irql)?,
            samples: SpinLock::new(Samples {
                values: [0; 1024],
                count: 0,
            }),
            runs: AtomicU32::new(0),
            drained: AtomicU32::new(0),
        })
    })?;
    Ok(device.into_raw())
}

/// IRP_MN_REMOVE_DEVICE, at PASSIVE_LEVEL: stop the item, delete the device.
fn remove_device(fdo: PDEVICE_OBJECT, irql: &Passive<'_>) -> (u32, u32) {
    // SAFETY: AddDevice gave this device up with `into_raw`; the PnP manager
    // removes it once, and nothing uses `fdo` after the delete.
    let device = unsafe { Device::<PortExtension>::from_raw(fdo) };
    let port = device.extension();
    port.drain.flush(irql); // neither queued nor running from here on
    let counts = (
        port.runs.load(Ordering::SeqCst),
        port.drained.load(Ordering::SeqCst),
    );
    device.delete(irql); // waits for guards, drops the extension, IoDeleteDevice
    counts
}

fn main() {
    let exec = Executive::new();
    let driver = exec.load_driver("port.sys");
    let irql = Passive::on_host(); // the PnP manager's thread
    let fdo = add_device(DriverObject::of(&driver), &irql).expect("AddDevice");
    let host_device = driver.device(fdo).expect("the FDO");
    let device = DeviceObject::of(&host_device); // what the kernel passes the DPC

    // Interrupts arrive in bursts; each DPC runs at DISPATCH_LEVEL.
    let mut queued = 0;
    for burst in 0..20u32 {
        for n in 0..50 {
            let newly =
                host::at_dispatch_level(|| dpc(device, burst * 50 + n, &mut Dispatch::on_host()));
            queued += u32::from(newly);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }

    let (runs, drained) = remove_device(fdo, &irql);
    println!("1000 interrupts -> {queued} queued, {runs} routine runs, {drained} samples drained");
    assert_eq!(drained, 1000, "every sample was drained exactly once");
    assert_eq!(runs, queued, "one run per successful queue");
    assert_eq!(
        DROPPED.load(Ordering::SeqCst),
        1,
        "the extension was dropped once"
    );
    assert!(device.extension::<PortExtension>(&irql).is_none());
    println!(
        "removed: extension dropped {} time(s), device freed: {}",
        DROPPED.load(Ordering::SeqCst),
        host_device.is_freed()
    );

    exec.wait_idle();
    if let Some(check) = exec.bug_check() {
        eprintln!("bug check: {check}");
        std::process::exit(1);
    }
    driver.unload().expect("DriverUnload");
}
