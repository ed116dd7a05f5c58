//! Throughput of the threaded host executive: a million items from four
//! threads, half `ExQueueWorkItem` and half `IoQueueWorkItemEx`, timed from the
//! first queue to idle. The same workload as `tests/stress.rs`, which checks
//! its correctness without timing it.
//!
//! ```text
//! cargo bench --bench stress            # 1,000,000 items, 3 runs
//! NTWORK_BENCH_ITEMS=200000 NTWORK_BENCH_RUNS=5 cargo bench --bench stress
//! ```

use ntwork::irql::Passive;
use std::time::{Duration, Instant};

use ntwork::{DeviceObject, WorkQueue, work_item};
use ntwork_host::Executive;
use ntwork_suite::{Counted, Tally};

/// Counts this file's Ex work, as a driver's DriverUnload would wait for it.
static WORK: ntwork::Rundown = ntwork::Rundown::new();

const THREADS: usize = 4;

#[work_item]
fn ex_stress(counted: Counted) {
    counted.mark_ran();
}

#[work_item(device)]
fn io_stress(_device: &DeviceObject, counted: Counted) {
    counted.mark_ran();
}

/// One run: queue `total` items from `THREADS` threads and wait until idle.
fn run(total: usize) -> Duration {
    let exec = Executive::new();
    let driver = exec.load_driver("stress-bench.sys");
    let device = driver.create_device();
    let object = ntwork_suite::object(&device);
    let tally = Tally::new();
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (exec, tally, object) = (&exec, &tally, &object);
            s.spawn(move || {
                let _bound = exec.enter();
                for id in (t..total).step_by(THREADS) {
                    let counted = Counted::new(tally, id);
                    let queue = WorkQueue::FIXED[id % WorkQueue::FIXED.len()];
                    if id % 2 == 0 {
                        ex_stress::queue(&WORK, counted, queue, &Passive::on_host()).unwrap();
                    } else {
                        io_stress::queue(object, counted, queue, &Passive::on_host()).unwrap();
                    }
                }
            });
        }
    });
    exec.wait_idle();
    let elapsed = started.elapsed();
    // A timing of lost work would mean nothing: the run must be complete.
    assert_eq!(exec.bug_check(), None);
    assert_eq!((tally.ran(), tally.dropped()), (total, total));
    driver.unload().unwrap();
    elapsed
}

fn main() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let total = env("NTWORK_BENCH_ITEMS", 1_000_000);
    let runs = env("NTWORK_BENCH_RUNS", 3);
    println!("{total} items (half Ex, half Io) from {THREADS} threads, threaded executive:");
    let mut times = Vec::new();
    for run_no in 1..=runs {
        let elapsed = run(total);
        println!(
            "  run {run_no}: {elapsed:.2?} ({:.0} items/s)",
            total as f64 / elapsed.as_secs_f64()
        );
        times.push(elapsed);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "  median: {median:.2?} ({:.0} items/s)",
        total as f64 / median.as_secs_f64()
    );
}
