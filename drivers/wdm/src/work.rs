//! All of the driver's use of ntwork: one routine per work-item path, and
//! the three moments the kernel glue (`lib.rs`) calls in.

use alloc::sync::Arc;
use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use ntwork::ffi::NTSTATUS;
use ntwork::irql::{AtMostDispatch, Passive};
use ntwork::{
    DeviceObject, DriverObject, IoWorkItem, ReusableIoWorkItem, Rundown, RunningIoWorkItem,
    WorkQueue, work_item,
};

/// Counts the driver's Ex work: opened in DriverEntry, waited for by
/// ntwork's DriverUnload before the driver's own unload code.
static WORK: Rundown = Rundown::new();

/// What the routines did (a stand-in for real work).
static EVENTS: AtomicU32 = AtomicU32::new(0);

/// Ex path, counted in the rundown given at the call.
#[work_item]
fn record_start(generation: u32) {
    EVENTS.fetch_add(generation, Ordering::Relaxed);
}

/// Ex path, the rundown named in the routine's type.
#[work_item(rundown = WORK)]
fn record_device(devices: u32) {
    EVENTS.fetch_add(devices, Ordering::Relaxed);
}

/// Driver-bound Io item: no device, but unload-safe (the queue references
/// the driver object until the routine returns).
#[work_item(driver)]
fn rebuild_cache(driver: &DriverObject, generation: u64) {
    core::hint::black_box((driver.as_raw(), generation));
    EVENTS.fetch_add(1, Ordering::Relaxed);
}

/// Device one-shot: the queue references the device until it returns.
#[work_item(device)]
fn probe_device(device: &DeviceObject, attempt: u32) {
    core::hint::black_box((device.as_raw(), attempt));
}

/// The routine's item lent for the call: requeued, or freed at return.
#[work_item(device)]
fn retry_reset(device: &DeviceObject, attempts: u32, item: RunningIoWorkItem<'_, retry_reset>) {
    core::hint::black_box(device.as_raw());
    if attempts > 0 {
        item.queue(attempts - 1, WorkQueue::Delayed);
    }
}

/// The routine keeps its item (a counted reference): parked in the port
/// until the next link event queues it again.
#[work_item(device)]
fn watch_link(device: &DeviceObject, port: Arc<Port>, item: IoWorkItem<watch_link>) {
    core::hint::black_box(device.as_raw());
    port.park(item);
}

/// The port's reusable item: many queues, one pending run at a time.
#[work_item(device)]
fn drain_port(device: &DeviceObject, port: Arc<Port>) {
    core::hint::black_box(device.as_raw());
    let drained = port.samples.swap(0, Ordering::AcqRel);
    EVENTS.fetch_add(drained, Ordering::Relaxed);
}

/// A device's state, what AddDevice builds (kept in the device extension).
pub struct Port {
    drain: ReusableIoWorkItem<drain_port>,
    /// A `watch_link` item between two link events (`IoWorkItem::into_raw`).
    parked: AtomicPtr<c_void>,
    samples: AtomicU32,
}

impl Port {
    fn park(&self, item: IoWorkItem<watch_link>) {
        let old = self.parked.swap(item.into_raw(), Ordering::AcqRel);
        self.free_parked(old);
    }

    fn free_parked(&self, raw: *mut c_void) {
        if !raw.is_null() {
            // SAFETY: only `park` stores into `parked`, an `into_raw` of a
            // `watch_link` item, and the swap took it out once.
            drop(unsafe { IoWorkItem::<watch_link>::from_raw(raw) });
        }
    }

    /// A sample (from the device's interrupt DPC, at DISPATCH_LEVEL, or
    /// PASSIVE_LEVEL code): count it and queue the drain unless it is pending
    /// (then that run takes the sample too).
    pub fn sample_arrived(self: &Arc<Self>, irql: &impl AtMostDispatch) {
        self.samples.fetch_add(1, Ordering::AcqRel);
        let _ = self.drain.queue(Arc::clone(self), WorkQueue::Delayed, irql);
    }

    /// A link event (a DPC, or PASSIVE_LEVEL code): the parked item goes again.
    pub fn link_changed(self: &Arc<Self>, irql: &impl AtMostDispatch) {
        let raw = self.parked.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !raw.is_null() {
            // SAFETY: as in `free_parked`.
            let item = unsafe { IoWorkItem::<watch_link>::from_raw(raw) };
            item.queue(Arc::clone(self), WorkQueue::Delayed, irql);
        }
    }

    /// Stop, at PASSIVE_LEVEL: nothing of this port runs or stays queued
    /// after it returns.
    pub fn stop(&self, irql: &Passive<'_>) {
        self.drain.flush(irql);
        self.free_parked(self.parked.swap(core::ptr::null_mut(), Ordering::AcqRel));
    }
}

/// DriverEntry: ntwork's DriverUnload (running `unload` once the Ex work is
/// done), the rundown it waits for, then Ex work and driver-bound work.
pub fn started(
    driver: &DriverObject,
    unload: fn(&DriverObject, &mut Passive<'_>),
    irql: &Passive<'_>,
) -> Result<(), NTSTATUS> {
    driver.set_unload(unload, irql)?;
    WORK.open(driver, irql)?;
    record_start::queue(&WORK, 1, WorkQueue::Delayed, irql)?;
    rebuild_cache::queue(driver, 1, WorkQueue::Delayed, irql)?;
    Ok(())
}

/// AddDevice: the device's port, and its first work.
pub fn device_added(device: &DeviceObject, irql: &Passive<'_>) -> Result<Arc<Port>, NTSTATUS> {
    let port = Arc::new(Port {
        drain: ReusableIoWorkItem::new(device, irql)?,
        parked: AtomicPtr::new(core::ptr::null_mut()),
        samples: AtomicU32::new(0),
    });
    probe_device::queue(device, 0, WorkQueue::Delayed, irql)?;
    retry_reset::queue(device, 3, WorkQueue::Delayed, irql)?;
    IoWorkItem::<watch_link>::new(device, irql)?.queue(Arc::clone(&port), WorkQueue::Delayed, irql);
    record_device::queue(1, WorkQueue::Delayed, irql)?;
    port.sample_arrived(irql);
    port.link_changed(irql);
    Ok(port)
}
