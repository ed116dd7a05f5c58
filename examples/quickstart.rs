//! A driver's Ex work from DriverEntry to DriverUnload, on the host executive:
//! typed work items queued from a DPC, counted in a rundown that ntwork's
//! DriverUnload waits for, and what ran where. Every call that has an IRQL
//! rule takes a proof of the IRQL its caller runs at (`ntwork::irql`).
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::irql::{Dispatch, Passive};
use ntwork::{DriverObject, QueueError, Rundown, WorkQueue, work_item};
use ntwork_host as host;
use ntwork_host::Executive;

/// Counts the driver's Ex work. Opened in DriverEntry; ntwork's DriverUnload
/// waits for it, so no routine can run in an unloaded driver image.
static WORK: Rundown = Rundown::new();

/// A batch of log lines a driver collected at DISPATCH_LEVEL and must write out
/// at PASSIVE_LEVEL.
struct LogBatch {
    id: usize,
    lines: Vec<String>,
    written: Arc<AtomicUsize>,
}

/// Runs on a system worker thread, at PASSIVE_LEVEL, with the batch it owns.
/// `rundown = WORK` counts every item of this routine in `WORK`: the C code's
/// instruction count (BENCHMARKS.md).
#[work_item(rundown = WORK)]
fn flush_log(batch: LogBatch) {
    let thread = std::thread::current();
    println!(
        "flush_log   batch {} ({} lines) on {:<18} at IRQL {}",
        batch.id,
        batch.lines.len(),
        thread.name().unwrap_or("?"),
        host::current_irql(),
    );
    batch
        .written
        .fetch_add(batch.lines.len(), Ordering::Relaxed);
}

/// A routine without a context, counted in a rundown chosen where it is queued.
/// It asks for its IRQL proof (`irql: &Passive<'_>`, a worker thread's
/// PASSIVE_LEVEL) to queue a batch of its own.
#[work_item]
fn heartbeat(irql: &Passive<'_>) {
    println!(
        "heartbeat   on {:<18}",
        std::thread::current().name().unwrap_or("?")
    );
    let batch = LogBatch {
        id: 99,
        lines: vec![String::from("heartbeat")],
        written: Arc::new(AtomicUsize::new(0)),
    };
    if let Err(refused) = flush_log::queue(batch, WorkQueue::Delayed, irql) {
        println!("heartbeat   no batch: {refused}");
    }
}

/// The DPC: at DISPATCH_LEVEL, where it may queue work but not wait for it.
/// A real DPC routine makes its proof on entry: `unsafe { Dispatch::assume() }`.
fn dpc(batch: LogBatch, irql: &Dispatch<'_>) {
    flush_log::queue(batch, WorkQueue::Delayed, irql).expect("pool allocation");
}

/// The driver's own unload code: ntwork's DriverUnload runs it after every
/// Ex routine counted in `WORK` has returned.
fn driver_unload(_driver: &DriverObject, _irql: &mut Passive<'_>) {
    println!("unload: every Ex routine has returned; freeing the driver's state");
}

/// DriverEntry, at PASSIVE_LEVEL: a real one makes its proof on entry,
/// `unsafe { Passive::assume() }`.
fn driver_entry(driver: &DriverObject, irql: &Passive<'_>) -> Result<(), ntwork::ffi::NTSTATUS> {
    driver.set_unload(driver_unload, irql)?;
    WORK.open(driver, irql)?;
    Ok(())
}

fn main() {
    let exec = Executive::new();
    let host_driver = exec.load_driver("quickstart.sys");
    // On the host, a test thread runs at PASSIVE_LEVEL, and the host checks
    // every proof against the IRQL it simulates.
    let irql = Passive::on_host();
    driver_entry(DriverObject::of(&host_driver), &irql).expect("DriverEntry");

    let written = Arc::new(AtomicUsize::new(0));
    for id in 0..6 {
        let lines = (0..=id).map(|n| format!("line {n}")).collect();
        let batch = LogBatch {
            id,
            lines,
            written: Arc::clone(&written),
        };
        host::at_dispatch_level(|| dpc(batch, &Dispatch::on_host()));
    }
    heartbeat::queue(&WORK, WorkQueue::Critical, &irql).expect("pool allocation");
    exec.wait_idle();

    // The I/O manager unloads the driver: ntwork's DriverUnload waits for
    // every item counted in WORK (none is left running here), then runs
    // `driver_unload`.
    host_driver.unload().expect("unload");
    let late = heartbeat::queue(&WORK, WorkQueue::Critical, &irql);
    assert!(matches!(late, Err(QueueError::Unloading(()))));
    println!("unloaded: a late queue is refused: {late:?}");

    match exec.bug_check() {
        None => println!(
            "done: {} items ran, {} lines written, no bug check",
            exec.items_run(),
            written.load(Ordering::Relaxed)
        ),
        Some(check) => {
            eprintln!("bug check: {check}");
            std::process::exit(1);
        }
    }
}
