//! Queue a batch of typed work items on the host executive and see what ran where.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::{QueueError, Rundown, WorkQueue, work_item};
use ntwork_host as host;
use ntwork_host::Executive;

/// Counts the driver's Ex work: DriverUnload waits for it, so no routine can
/// run in an unloaded driver image.
static WORK: Rundown = Rundown::new();

/// A batch of log lines a driver collected at DISPATCH_LEVEL and must write out
/// at PASSIVE_LEVEL.
struct LogBatch {
    id: usize,
    lines: Vec<String>,
    written: Arc<AtomicUsize>,
}

/// Runs on a system worker thread, at PASSIVE_LEVEL, with the batch it owns.
#[work_item]
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

/// A routine without a context.
#[work_item]
fn heartbeat() {
    println!(
        "heartbeat   on {:<18}",
        std::thread::current().name().unwrap_or("?")
    );
}

fn main() {
    let exec = Executive::new();
    let written = Arc::new(AtomicUsize::new(0));

    for id in 0..6 {
        let lines = (0..=id).map(|n| format!("line {n}")).collect();
        let batch = LogBatch {
            id,
            lines,
            written: Arc::clone(&written),
        };
        // At DISPATCH_LEVEL, as a DPC would queue it.
        host::at_dispatch_level(|| flush_log::queue(&WORK, batch, WorkQueue::Delayed))
            .expect("pool allocation");
    }
    heartbeat::queue(&WORK, WorkQueue::Critical).expect("pool allocation");

    // DriverUnload: wait for every Ex item counted in WORK; later queues are refused.
    WORK.wait();
    let late = heartbeat::queue(&WORK, WorkQueue::Critical);
    assert!(matches!(late, Err(QueueError::Unloading(()))));
    println!("unload: rundown complete, a late queue was refused: {late:?}");

    exec.wait_idle();
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
