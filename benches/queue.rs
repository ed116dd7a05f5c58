//! ntwork against the hand-written C-style baseline, side by side in one run.
//!
//! Both queue the same context through `ExQueueWorkItem` on one manual host
//! executive and run it: the baseline with a raw `WORK_QUEUE_ITEM` + context
//! block, `ExInitializeWorkItem` and an `extern "system"` routine that frees it,
//! as a C driver does; ntwork through `#[work_item]` and `ExWorkItem`. The ratio
//! is ntwork's cost over the baseline's.
//!
//! ```text
//! cargo bench --bench queue
//! ```
//!
//! For instruction counts (repeatable), run one path alone under callgrind:
//! `NTWORK_BENCH_ONLY=raw` or `NTWORK_BENCH_ONLY=ntwork` (see BENCHMARKS.md).

use ntwork::irql::Passive;
use std::ffi::c_void;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ntwork::{WorkQueue, ffi, work_item};
use ntwork_host::{Executive, pool};

/// Counts this file's Ex work, as a driver's DriverUnload would wait for it.
static WORK: ntwork::Rundown = ntwork::Rundown::new();

#[derive(Clone, Copy)]
struct Payload {
    a: u64,
    b: u64,
}

#[work_item]
fn typed(payload: Payload) {
    black_box(payload.a + payload.b);
}

#[repr(C)]
struct RawBlock {
    item: ffi::WORK_QUEUE_ITEM,
    payload: Payload,
}

unsafe extern "system" fn raw_routine(parameter: *mut c_void) {
    let block = parameter.cast::<RawBlock>();
    // SAFETY: `parameter` is the block `raw_queue` allocated; it runs once.
    unsafe {
        let payload = (*block).payload;
        pool::free(block.cast(), std::alloc::Layout::new::<RawBlock>());
        black_box(payload.a + payload.b);
    }
}

fn raw_queue(payload: Payload) {
    let block = pool::allocate(std::alloc::Layout::new::<RawBlock>()).cast::<RawBlock>();
    assert!(!block.is_null());
    // SAFETY: a fresh block, initialized before it is queued once.
    unsafe {
        (&raw mut (*block).payload).write(payload);
        ffi::ExInitializeWorkItem(&raw mut (*block).item, Some(raw_routine), block.cast());
        ffi::ExQueueWorkItem(&raw mut (*block).item, ffi::DelayedWorkQueue);
    }
}

fn typed_queue(payload: Payload) {
    typed::queue(&WORK, payload, WorkQueue::Delayed, &Passive::on_host()).unwrap();
}

fn measure(exec: &Executive, batch: usize, queue: fn(Payload)) -> Duration {
    let started = Instant::now();
    for i in 0..batch as u64 {
        queue(Payload { a: i, b: i * 3 });
    }
    assert_eq!(exec.run_until_idle(), batch);
    started.elapsed()
}

fn main() {
    let batch: usize = std::env::var("NTWORK_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rounds: usize = std::env::var("NTWORK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let exec = Executive::manual();
    if let Ok(path) = std::env::var("NTWORK_BENCH_ONLY") {
        let queue = if path == "raw" {
            raw_queue
        } else {
            typed_queue
        };
        measure(&exec, batch, queue);
        println!("ran {batch} items on the {path} path");
        return;
    }
    // Warm up both paths.
    measure(&exec, batch / 10, raw_queue);
    measure(&exec, batch / 10, typed_queue);

    let (mut raw, mut ours) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which path goes first, so neither inherits the other's heap state.
        if round % 2 == 0 {
            raw.push(measure(&exec, batch, raw_queue));
            ours.push(measure(&exec, batch, typed_queue));
        } else {
            ours.push(measure(&exec, batch, typed_queue));
            raw.push(measure(&exec, batch, raw_queue));
        }
    }
    raw.sort();
    ours.sort();
    let per_item = |d: Duration| d.as_nanos() as f64 / batch as f64;
    let (raw_median, ours_median) = (per_item(raw[rounds / 2]), per_item(ours[rounds / 2]));
    assert_eq!(exec.bug_check(), None);
    println!("queue+run one Ex item, {batch} items x {rounds} rounds, median per item:");
    println!("  baseline (raw WORK_QUEUE_ITEM, C style): {raw_median:8.1} ns");
    println!("  ntwork   (#[work_item] + ExWorkItem):    {ours_median:8.1} ns");
    println!(
        "  ratio ntwork / baseline:                 {:8.3}",
        ours_median / raw_median
    );
}
