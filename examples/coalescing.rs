//! A common driver pattern: a DPC fires often, the work it triggers is
//! expensive, so the driver keeps one reusable work item and queues it only if
//! it is not already pending. `Err(AlreadyQueued)` is not a failure here: the
//! pending run will see the new data. In C this is an interlocked flag beside a
//! `WORK_QUEUE_ITEM`, and getting it wrong is bug check 0xE4.
//!
//! ```text
//! cargo run --example coalescing
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::irql::{Dispatch, Passive};
use ntwork::{NotQueued, ReusableExWorkItem, SpinLock, WorkQueue, work_item};
use ntwork_host as host;
use ntwork_host::Executive;

/// Counts this file's Ex work, as a driver's DriverUnload would wait for it.
static WORK: ntwork::Rundown = ntwork::Rundown::new();

/// Samples the DPC appends and the worker drains, under a kernel spin lock
/// (a DPC cannot wait on a mutex).
struct Telemetry {
    samples: SpinLock<Vec<u32>>,
    drained: AtomicUsize,
    runs: AtomicUsize,
}

#[work_item]
fn drain_telemetry(telemetry: &Telemetry, irql: &mut Passive<'_>) {
    // The lock raises to DISPATCH_LEVEL for this statement only.
    let batch = telemetry
        .samples
        .lock(irql, |samples, _| std::mem::take(samples));
    telemetry.drained.fetch_add(batch.len(), Ordering::SeqCst);
    telemetry.runs.fetch_add(1, Ordering::SeqCst);
}

static DRAIN: ReusableExWorkItem<drain_telemetry> = ReusableExWorkItem::new(
    &WORK,
    Telemetry {
        samples: SpinLock::new(Vec::new()),
        drained: AtomicUsize::new(0),
        runs: AtomicUsize::new(0),
    },
);

/// What the DPC does, at DISPATCH_LEVEL (a real DPC routine makes its proof
/// on entry: `unsafe { Dispatch::assume() }`). It may queue the drain; it may
/// not wait for it (`DRAIN.flush` needs a `Passive` proof).
fn on_interrupt(sample: u32, irql: &mut Dispatch<'_>) -> bool {
    DRAIN
        .context()
        .samples
        .lock(irql, |samples, _| samples.push(sample));
    match DRAIN.queue_static(WorkQueue::Delayed, irql) {
        Ok(()) => true,
        Err(NotQueued::AlreadyQueued) => false, // the pending run picks this sample up
        Err(refused) => panic!("the driver is stopping: {refused}"),
    }
}

fn main() {
    let exec = Executive::manual();
    let driver = exec.load_driver("telemetry.sys");
    let irql = Passive::on_host();
    {
        let driver = ntwork::DriverObject::of(&driver);
        // DriverEntry: ntwork's DriverUnload waits for WORK.
        driver.set_unload(|_, _| {}, &irql).expect("DriverEntry");
        WORK.open(driver, &irql).expect("DriverEntry");
    }
    let mut queued = 0;
    for burst in 0..5u32 {
        for n in 0..100 {
            queued += usize::from(host::at_dispatch_level(|| {
                on_interrupt(burst * 100 + n, &mut Dispatch::on_host())
            }));
        }
        // The worker gets a turn between bursts.
        exec.run_until_idle();
    }
    let telemetry = DRAIN.context();
    println!(
        "500 interrupts -> {queued} queued, {} routine runs, {} samples drained, bug check: {:?}",
        telemetry.runs.load(Ordering::SeqCst),
        telemetry.drained.load(Ordering::SeqCst),
        exec.bug_check(),
    );
    assert_eq!(telemetry.drained.load(Ordering::SeqCst), 500);
    assert_eq!(telemetry.runs.load(Ordering::SeqCst), 5);
    driver.unload().expect("unload");
    assert_eq!(
        DRAIN.queue_static(WorkQueue::Delayed, &irql),
        Err(NotQueued::Unloading)
    );
}
