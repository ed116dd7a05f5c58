//! The device-extension pattern: each device keeps one reusable work item in
//! its state and queues it from its DPC many times. While it is pending, more
//! interrupts coalesce into the run already queued. At stop, the driver
//! flushes the item (waits until it is neither queued nor running) before it
//! frees what the routine uses.
//!
//! In C this is an `IO_WORKITEM` in the device extension, an interlocked flag
//! beside it, and a hand-rolled event for the stop path; getting any of the
//! three wrong is a bug check (0xE4) or a use after free.
//!
//! ```text
//! cargo run --example device_extension
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ntwork::irql::{Dispatch, Passive};
use ntwork::{DeviceObject, NotQueued, ReusableIoWorkItem, SpinLock, WorkQueue, work_item};
use ntwork_host::{self as host, Executive};

/// What AddDevice builds for each device (a C driver's device extension).
struct Port {
    /// The port's one work item, queued again and again.
    drain: ReusableIoWorkItem<drain_port>,
    /// Filled by the DPC, drained by the work item.
    samples: SpinLock<Vec<u32>>,
    runs: AtomicU32,
    drained: AtomicU32,
}

/// At PASSIVE_LEVEL: takes everything the DPC collected so far. The routine
/// reaches its port (and so its own item) through the `Arc` it was queued with.
#[work_item(device)]
fn drain_port(_device: &DeviceObject, port: Arc<Port>, irql: &mut Passive<'_>) {
    let batch = std::mem::take(&mut *port.samples.lock(irql));
    port.drained.fetch_add(batch.len() as u32, Ordering::SeqCst);
    port.runs.fetch_add(1, Ordering::SeqCst);
}

/// The DPC, at DISPATCH_LEVEL: record the sample, queue the drain unless it is
/// already pending (then the pending run picks the sample up).
fn on_interrupt(port: &Arc<Port>, sample: u32, irql: &mut Dispatch<'_>) -> Result<bool, NotQueued> {
    port.samples.lock(irql).push(sample);
    match port.drain.queue(Arc::clone(port), WorkQueue::Delayed, irql) {
        Ok(()) => Ok(true),
        Err(refused) if refused.reason == NotQueued::AlreadyQueued => Ok(false),
        // Flushing: the device is stopping; a real DPC would drop the sample.
        Err(refused) => Err(refused.reason),
    }
}

fn main() {
    let exec = Executive::new();
    let driver = exec.load_driver("port.sys");
    let host_device = driver.create_device();
    let device = DeviceObject::of(&host_device);
    let irql = Passive::on_host();

    // AddDevice: the state and its item, allocated once.
    let port = Arc::new(Port {
        drain: ReusableIoWorkItem::new(device, &irql).expect("IoAllocateWorkItem"),
        samples: SpinLock::new(Vec::new()),
        runs: AtomicU32::new(0),
        drained: AtomicU32::new(0),
    });

    // Interrupts arrive in bursts; each burst's DPC runs at DISPATCH_LEVEL.
    let mut queued = 0;
    for burst in 0..20u32 {
        for n in 0..50 {
            let newly = host::at_dispatch_level(|| {
                on_interrupt(&port, burst * 50 + n, &mut Dispatch::on_host())
            });
            queued += u32::from(newly.expect("the device is running"));
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }

    // Stop (IRP_MN_STOP_DEVICE / D0Exit): wait for the item, then tear down.
    port.drain.flush(&irql);
    let (runs, drained) = (
        port.runs.load(Ordering::SeqCst),
        port.drained.load(Ordering::SeqCst),
    );
    println!("1000 interrupts -> {queued} queued, {runs} routine runs, {drained} samples drained");
    assert_eq!(drained, 1000, "every sample was drained exactly once");
    assert_eq!(runs, queued, "one run per successful queue");
    drop(port); // frees the IO_WORKITEM and drops the device reference

    exec.wait_idle();
    match exec.bug_check() {
        None => println!(
            "stopped cleanly: device reference count {}, IO_WORKITEMs outstanding {}",
            host_device.reference_count(),
            exec.io_work_items_outstanding()
        ),
        Some(check) => {
            eprintln!("bug check: {check}");
            std::process::exit(1);
        }
    }
}
