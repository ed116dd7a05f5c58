//! The legal IRQL patterns: queue from a DPC, flush from a PASSIVE_LEVEL
//! routine, requeue from the routine itself, raise with a spin lock and queue
//! under it, and every proof on the host checked against the simulated IRQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ntwork::irql::{AtMostApc, Dispatch, Passive};
use ntwork::{
    DeviceObject, DriverObject, IoWorkItem, ReusableExWorkItem, Rundown, SpinLock, WorkQueue,
    work_item,
};

static WORK: Rundown = Rundown::new();
static SAMPLES: SpinLock<u32> = SpinLock::new(0);

#[work_item]
fn tick(count: &AtomicU32) {
    count.fetch_add(1, Ordering::SeqCst);
}

static TICK: ReusableExWorkItem<tick> = ReusableExWorkItem::new(&WORK, AtomicU32::new(0));

/// Flushes the reusable item from a routine: PASSIVE_LEVEL.
#[work_item]
fn stop_ticking(stopped: Arc<AtomicU32>, irql: &Passive<'_>) {
    TICK.flush(irql);
    stopped.store(TICK.context().load(Ordering::SeqCst), Ordering::SeqCst);
}

/// Requeues its own item with the proof it was lent, then takes a spin lock
/// with the same proof (`&mut`: the lock borrows it for its scope).
#[work_item(device)]
fn poll(device: &DeviceObject, left: u32, item: IoWorkItem<poll>, irql: &mut Passive<'_>) {
    let _ = device;
    if left > 0 {
        item.queue(left - 1, WorkQueue::Delayed, irql);
    }
    SAMPLES.lock(irql, |samples, _| *samples += 1);
}

/// A driver's own pageable helper, stated with the same traits.
fn read_configuration(irql: &impl AtMostApc) -> u32 {
    let _ = irql;
    2
}

/// The DPC: queues (at most DISPATCH_LEVEL) under a spin lock, with the
/// lock's proof.
fn dpc(device: &DeviceObject, irql: &mut Dispatch<'_>) {
    SAMPLES.lock(irql, |samples, dispatch| {
        *samples += 1;
        let _ = TICK.queue_static(WorkQueue::Delayed, dispatch);
        poll::queue(device, 1, WorkQueue::Delayed, dispatch).unwrap();
    });
}

fn main() {
    let exec = ntwork_host::Executive::manual();
    let host_driver = exec.load_driver("irql.sys");
    let host_device = host_driver.create_device();
    let (driver, device) = (DriverObject::of(&host_driver), DeviceObject::of(&host_device));
    let mut irql = Passive::on_host();
    driver.set_unload(|_, _| {}, &irql).unwrap();
    WORK.open(driver, &irql).unwrap();

    ntwork_host::at_dispatch_level(|| dpc(device, &mut Dispatch::on_host()));
    assert_eq!(exec.run_until_idle(), 3, "tick, poll and its requeue");
    assert_eq!(SAMPLES.lock(&mut irql, |samples, _| *samples), 3, "the DPC's and both polls'");

    let stopped = Arc::new(AtomicU32::new(0));
    stop_ticking::queue(&WORK, Arc::clone(&stopped), WorkQueue::Delayed, &irql).unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(stopped.load(Ordering::SeqCst), 1);
    assert_eq!(read_configuration(&irql), 2);
    assert_eq!(exec.bug_check(), None, "every proof agreed with the host's IRQL");
    host_driver.unload().unwrap();
}
