//! ntwork against hand-written C-style code, on a minimal kernel: the kernel
//! exports ntwork's ffi declares, defined here as a plain single-threaded FIFO
//! over the system allocator, so nothing but the two driver-side paths is
//! measured (no host executive bookkeeping in the denominator).
//!
//! ```text
//! cargo run --release --manifest-path benches/minimal-kernel/Cargo.toml
//! ```
//!
//! Each path queues and runs the same 16-byte context `N` times; run one path
//! alone under callgrind for instruction counts (see BENCHMARKS.md):
//! `NTWORK_BENCH_ONLY=<path> NTWORK_BENCH_BATCH=<n>`.

#![allow(non_snake_case, clippy::missing_safety_doc)]

mod kernel;

use core::ffi::c_void;
use std::hint::black_box;
use std::time::Instant;

use ntwork::irql::Passive;
use ntwork::{
    DeviceObject, DriverObject, IoWorkItem, Rundown, RunningIoWorkItem, WorkQueue, ffi, work_item,
};

#[derive(Clone, Copy)]
struct Payload {
    a: u64,
    b: u64,
}

static WORK: Rundown = Rundown::new();
static mut C_RUNDOWN: ffi::EX_RUNDOWN_REF = ffi::EX_RUNDOWN_REF::new();
const TAG: u32 = u32::from_le_bytes(*b"Cdrv");

// ---- (a) Ex path with a rundown: ntwork ---------------------------------

#[work_item]
fn typed(payload: Payload) {
    black_box(payload.a.wrapping_add(payload.b));
}

fn ntwork_ex(payload: Payload) {
    // SAFETY: the bench's queueing code stands for a DPC or a dispatch routine,
    // which make their proof on entry; this minimal kernel has no IRQL to break.
    let irql = unsafe { Passive::assume() };
    if typed::queue(&WORK, payload, WorkQueue::Delayed, &irql).is_err() {
        std::process::abort();
    }
}

// ---- (a') the same, the rundown named in the routine's type ---------------

static STATED: Rundown = Rundown::new();

#[work_item(rundown = STATED)]
fn typed_stated(payload: Payload) {
    black_box(payload.a.wrapping_add(payload.b));
}

fn ntwork_ex_stated(payload: Payload) {
    // SAFETY: the bench's queueing code stands for a DPC or a dispatch routine,
    // which make their proof on entry; this minimal kernel has no IRQL to break.
    let irql = unsafe { Passive::assume() };
    if typed_stated::queue(payload, WorkQueue::Delayed, &irql).is_err() {
        std::process::abort();
    }
}

// ---- (a) Ex path with a rundown: C ---------------------------------------

#[repr(C)]
struct CBlock {
    item: ffi::WORK_QUEUE_ITEM,
    payload: Payload,
}

unsafe extern "system" fn c_routine(parameter: *mut c_void) {
    let block = parameter.cast::<CBlock>();
    // SAFETY: the block `c_ex` allocated; this routine runs once for it.
    unsafe {
        let payload = (*block).payload;
        ffi::ExFreePoolWithTag(block.cast(), TAG);
        black_box(payload.a.wrapping_add(payload.b));
        ffi::ExReleaseRundownProtection(&raw mut C_RUNDOWN);
    }
}

fn c_ex(payload: Payload) {
    // SAFETY: the C shape: acquire, allocate, initialize, queue.
    unsafe {
        if ffi::ExAcquireRundownProtection(&raw mut C_RUNDOWN) == 0 {
            std::process::abort();
        }
        let block = ffi::ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, size_of::<CBlock>(), TAG)
            .cast::<CBlock>();
        if block.is_null() {
            ffi::ExReleaseRundownProtection(&raw mut C_RUNDOWN);
            std::process::abort();
        }
        (&raw mut (*block).payload).write(payload);
        ffi::ExInitializeWorkItem(&raw mut (*block).item, Some(c_routine), block.cast());
        ffi::ExQueueWorkItem(&raw mut (*block).item, ffi::DelayedWorkQueue);
    }
}

// ---- (b) Ex path without a rundown: C -------------------------------------
//
// What most C drivers write: no unload protection at all (the routine can run
// after the image is gone). ntwork's cheapest Ex API that is still safe is a
// `Rundown::never_unloads()`, which still takes and releases protection.

static FOREVER: Rundown = {
    // SAFETY: this program never unloads: nothing runs after `main` returns.
    unsafe { Rundown::never_unloads() }
};

fn ntwork_ex_forever(payload: Payload) {
    // SAFETY: the bench's queueing code stands for a DPC or a dispatch routine,
    // which make their proof on entry; this minimal kernel has no IRQL to break.
    let irql = unsafe { Passive::assume() };
    if typed::queue(&FOREVER, payload, WorkQueue::Delayed, &irql).is_err() {
        std::process::abort();
    }
}

// (b') the same, the driver stating in the routine that it cannot unload.

// SAFETY: this program never unloads: nothing runs after `main` returns.
#[work_item(unsafe(never_unloads))]
fn typed_never(payload: Payload) {
    black_box(payload.a.wrapping_add(payload.b));
}

fn ntwork_ex_never(payload: Payload) {
    // SAFETY: the bench's queueing code stands for a DPC or a dispatch routine,
    // which make their proof on entry; this minimal kernel has no IRQL to break.
    let irql = unsafe { Passive::assume() };
    if typed_never::queue(payload, WorkQueue::Delayed, &irql).is_err() {
        std::process::abort();
    }
}

unsafe extern "system" fn c_plain_routine(parameter: *mut c_void) {
    let block = parameter.cast::<CBlock>();
    // SAFETY: the block `c_ex_plain` allocated; this routine runs once for it.
    unsafe {
        let payload = (*block).payload;
        ffi::ExFreePoolWithTag(block.cast(), TAG);
        black_box(payload.a.wrapping_add(payload.b));
    }
}

fn c_ex_plain(payload: Payload) {
    // SAFETY: the C shape without protection: allocate, initialize, queue.
    unsafe {
        let block = ffi::ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, size_of::<CBlock>(), TAG)
            .cast::<CBlock>();
        if block.is_null() {
            std::process::abort();
        }
        (&raw mut (*block).payload).write(payload);
        ffi::ExInitializeWorkItem(&raw mut (*block).item, Some(c_plain_routine), block.cast());
        ffi::ExQueueWorkItem(&raw mut (*block).item, ffi::DelayedWorkQueue);
    }
}

// ---- (c) Io path: ntwork ---------------------------------------------------

#[work_item(device)]
fn typed_io(device: &DeviceObject, payload: Payload) {
    let _ = device;
    black_box(payload.a.wrapping_add(payload.b));
}

fn ntwork_io(device: &DeviceObject, payload: Payload) {
    // SAFETY: the bench's queueing code stands for a DPC or a dispatch routine,
    // which make their proof on entry; this minimal kernel has no IRQL to break.
    let irql = unsafe { Passive::assume() };
    if typed_io::queue(device, payload, WorkQueue::Delayed, &irql).is_err() {
        std::process::abort();
    }
}

// ---- (c') the same, a routine that takes its item lent (to requeue or free) ----

#[work_item(device)]
fn typed_io_lent(
    device: &DeviceObject,
    payload: Payload,
    item: RunningIoWorkItem<'_, typed_io_lent>,
) {
    let _ = device;
    black_box(payload.a.wrapping_add(payload.b));
    drop(item);
}

fn ntwork_io_lent(device: &DeviceObject, payload: Payload) {
    // SAFETY: the bench's queueing code stands for a DPC or a dispatch routine,
    // which make their proof on entry; this minimal kernel has no IRQL to break.
    let irql = unsafe { Passive::assume() };
    if typed_io_lent::queue(device, payload, WorkQueue::Delayed, &irql).is_err() {
        std::process::abort();
    }
}

// ---- (c'') the same, the item kept (it could outlive the call) ------------

#[work_item(device)]
fn typed_io_item(device: &DeviceObject, payload: Payload, item: IoWorkItem<typed_io_item>) {
    let _ = device;
    black_box(payload.a.wrapping_add(payload.b));
    drop(item);
}

fn ntwork_io_item(device: &DeviceObject, payload: Payload) {
    // SAFETY: the bench's queueing code stands for a DPC or a dispatch routine,
    // which make their proof on entry; this minimal kernel has no IRQL to break.
    let irql = unsafe { Passive::assume() };
    if typed_io_item::queue(device, payload, WorkQueue::Delayed, &irql).is_err() {
        std::process::abort();
    }
}

// ---- (c) Io path: C ---------------------------------------------------------

#[repr(C)]
struct CIoContext {
    payload: Payload,
}

unsafe extern "system" fn c_io_routine(
    _io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    // SAFETY: the context `c_io` allocated, and the item it queued.
    unsafe {
        let context = context.cast::<CIoContext>();
        let payload = (*context).payload;
        ffi::ExFreePoolWithTag(context.cast(), TAG);
        black_box(payload.a.wrapping_add(payload.b));
        ffi::IoFreeWorkItem(item);
    }
}

fn c_io(device: ffi::PDEVICE_OBJECT, payload: Payload) {
    // SAFETY: the C shape: allocate the item and a context, queue with the Ex routine.
    unsafe {
        let item = ffi::IoAllocateWorkItem(device);
        if item.is_null() {
            std::process::abort();
        }
        let context = ffi::ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, size_of::<CIoContext>(), TAG)
            .cast::<CIoContext>();
        if context.is_null() {
            ffi::IoFreeWorkItem(item);
            std::process::abort();
        }
        (&raw mut (*context).payload).write(payload);
        ffi::IoQueueWorkItemEx(
            item,
            Some(c_io_routine),
            ffi::DelayedWorkQueue,
            context.cast(),
        );
    }
}

/// Queues and runs `n` items through `queue`, one at a time.
#[inline(never)]
fn run_with(n: usize, queue: impl Fn(Payload)) {
    for i in 0..n {
        queue(black_box(Payload { a: i as u64, b: 1 }));
        kernel::run_one();
    }
}

fn run(path: &str, n: usize) {
    let device = kernel::device();
    // SAFETY: the minimal kernel's device object lives for the process.
    let safe_device = unsafe { DeviceObject::from_raw(device) };
    // The path is chosen once, outside the loop, so both sides pay the same.
    match path {
        "c-ex" => run_with(n, c_ex),
        "ntwork-ex" => run_with(n, ntwork_ex),
        "ntwork-ex-stated" => run_with(n, ntwork_ex_stated),
        "c-ex-plain" => run_with(n, c_ex_plain),
        "ntwork-ex-forever" => run_with(n, ntwork_ex_forever),
        "ntwork-ex-never" => run_with(n, ntwork_ex_never),
        "c-io" => run_with(n, |p| c_io(device, p)),
        "ntwork-io" => run_with(n, |p| ntwork_io(safe_device, p)),
        "ntwork-io-lent" => run_with(n, |p| ntwork_io_lent(safe_device, p)),
        "ntwork-io-item" => run_with(n, |p| ntwork_io_item(safe_device, p)),
        _ => panic!(
            "unknown path {path}: c-ex, ntwork-ex, ntwork-ex-stated, c-ex-plain, ntwork-ex-forever, ntwork-ex-never, c-io, ntwork-io, ntwork-io-lent, ntwork-io-item"
        ),
    }
}

/// What DriverEntry does: ntwork's DriverUnload, and the rundowns opened for
/// it. Once, before any path runs.
fn driver_entry() {
    // SAFETY: the minimal kernel's driver object lives for the process.
    let driver = unsafe { DriverObject::from_raw(kernel::driver()) };
    // SAFETY: main stands for DriverEntry, at PASSIVE_LEVEL.
    let irql = unsafe { Passive::assume() };
    driver.set_unload(|_, _| {}, &irql).expect("the extension");
    WORK.open(driver, &irql).expect("opened");
    STATED.open(driver, &irql).expect("opened");
}

fn main() {
    driver_entry();
    let batch: usize = std::env::var("NTWORK_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    if let Ok(only) = std::env::var("NTWORK_BENCH_ONLY") {
        run(&only, batch);
        return;
    }
    println!("{batch} items per path, wall time per item (callgrind gives the repeatable figure)");
    for (c, rust) in [
        ("c-ex", "ntwork-ex"),
        ("c-ex", "ntwork-ex-stated"),
        ("c-ex-plain", "ntwork-ex-forever"),
        ("c-ex-plain", "ntwork-ex-never"),
        ("c-io", "ntwork-io"),
        ("c-io", "ntwork-io-lent"),
        ("c-io", "ntwork-io-item"),
    ] {
        let mut times = [[0f64; 2]; 7];
        for round in &mut times {
            for (slot, path) in round.iter_mut().zip([c, rust]) {
                let start = Instant::now();
                run(path, batch);
                *slot = start.elapsed().as_nanos() as f64 / batch as f64;
            }
        }
        let median = |k: usize| {
            let mut v: Vec<f64> = times.iter().map(|r| r[k]).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (base, ours) = (median(0), median(1));
        println!(
            "{c:>9}: {base:6.1} ns   {rust:>9}: {ours:6.1} ns   ratio {:.3}",
            ours / base
        );
    }
}
