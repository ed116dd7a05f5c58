//! Many items from several threads, Ex and Io mixed: none lost, none run twice,
//! every context dropped once, the device and pool back to zero. A correctness
//! test only; the same workload is timed by `cargo bench --bench stress`. The
//! normal suite runs 40,000 items; the million-item run is ignored by default:
//!
//! ```text
//! cargo test --release --test stress -- --ignored
//! ```

use ntwork::irql::Passive;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use ntwork::{DeviceObject, WorkQueue, work_item};
use ntwork_host::Executive;
use ntwork_suite::{Counted, Tally};

/// The stress driver's Ex work, as its DriverUnload waits for it.
static WORK: ntwork::Rundown = ntwork::Rundown::new();

type Seen = Arc<Vec<AtomicU8>>;

#[work_item]
fn ex_stress(context: (Counted, Seen)) {
    let (counted, seen) = context;
    seen[counted.id].fetch_add(1, Ordering::Relaxed);
    counted.mark_ran();
}

#[work_item(device)]
fn io_stress(_device: &DeviceObject, context: (Counted, Seen)) {
    let (counted, seen) = context;
    seen[counted.id].fetch_add(1, Ordering::Relaxed);
    counted.mark_ran();
}

fn run(total: usize) {
    const THREADS: usize = 4;
    let exec = Executive::new();
    let driver = ntwork_suite::load_ex_driver(&exec, "stress.sys", &[&WORK]);
    let device = driver.create_device();
    let base = device.reference_count();
    let object = ntwork_suite::object(&device);
    let tally = Tally::new();
    let seen: Seen = Arc::new((0..total).map(|_| AtomicU8::new(0)).collect());

    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (exec, tally, seen, object) = (&exec, &tally, &seen, &object);
            s.spawn(move || {
                let _bound = exec.enter();
                for id in (t..total).step_by(THREADS) {
                    let context = (Counted::new(tally, id), Arc::clone(seen));
                    let queue = WorkQueue::FIXED[id % WorkQueue::FIXED.len()];
                    if id % 2 == 0 {
                        ex_stress::queue(&WORK, context, queue, &Passive::on_host()).unwrap();
                    } else {
                        io_stress::queue(object, context, queue, &Passive::on_host()).unwrap();
                    }
                }
            });
        }
    });
    exec.wait_idle();

    assert_eq!(exec.bug_check(), None);
    let lost = seen
        .iter()
        .filter(|n| n.load(Ordering::Relaxed) == 0)
        .count();
    let twice = seen
        .iter()
        .filter(|n| n.load(Ordering::Relaxed) > 1)
        .count();
    assert_eq!((lost, twice), (0, 0), "lost, run twice");
    assert_eq!(tally.ran(), total);
    assert_eq!(tally.dropped(), total);
    assert_eq!(device.reference_count(), base);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    driver.unload().unwrap();
}

#[test]
fn forty_thousand_items_mixed() {
    run(40_000);
}

#[test]
#[ignore = "a million items: run in release with --ignored"]
fn one_million_items_mixed() {
    run(1_000_000);
}
