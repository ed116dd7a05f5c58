//! All of the driver's use of ntwork: one routine per work-item path, and
//! the three moments the kernel glue (`lib.rs`) calls in.

use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use ntwork::ffi::{FILE_DEVICE_UNKNOWN, NTSTATUS, PDEVICE_OBJECT};
use ntwork::irql::{AtMostDispatch, Passive};
use ntwork::{
    Device, DeviceObject, DeviceOptions, DriverObject, IoWorkItem, ReusableIoWorkItem, Rundown,
    RunningIoWorkItem, WorkQueue, work_item,
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
/// until the next link event queues it again; freed if the device is going.
#[work_item(device)]
fn watch_link(device: &DeviceObject, _: (), item: IoWorkItem<watch_link>, irql: &Passive<'_>) {
    if let Some(port) = device.extension::<Port>(irql) {
        port.park(item);
    }
}

/// The port's reusable item: many queues, one pending run at a time. It
/// finds the port in its device's extension.
#[work_item(device)]
fn drain_port(device: &DeviceObject, _: (), irql: &Passive<'_>) {
    if let Some(port) = device.extension::<Port>(irql) {
        let drained = port.samples.swap(0, Ordering::AcqRel);
        EVENTS.fetch_add(drained, Ordering::Relaxed);
    }
}

/// A device's state: its extension, built by AddDevice once the device
/// exists, dropped when the device is deleted.
pub struct Port {
    drain: ReusableIoWorkItem<drain_port>,
    /// A `watch_link` item between two link events (`IoWorkItem::into_raw`).
    parked: AtomicPtr<c_void>,
    samples: AtomicU32,
}

impl Port {
    fn park(&self, item: IoWorkItem<watch_link>) {
        let old = self.parked.swap(item.into_raw(), Ordering::AcqRel);
        Self::free_parked(old);
    }

    fn free_parked(raw: *mut c_void) {
        if !raw.is_null() {
            // SAFETY: only `park` stores into `parked`, an `into_raw` of a
            // `watch_link` item, and the swap took it out once.
            drop(unsafe { IoWorkItem::<watch_link>::from_raw(raw) });
        }
    }

    /// A sample (from the device's interrupt DPC, at DISPATCH_LEVEL, or
    /// PASSIVE_LEVEL code): count it and queue the drain unless it is pending
    /// (then that run takes the sample too).
    pub fn sample_arrived(&self, irql: &impl AtMostDispatch) {
        self.samples.fetch_add(1, Ordering::AcqRel);
        let _ = self.drain.queue((), WorkQueue::Delayed, irql);
    }

    /// A link event (a DPC, or PASSIVE_LEVEL code): the parked item goes again.
    pub fn link_changed(&self, irql: &impl AtMostDispatch) {
        let raw = self.parked.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !raw.is_null() {
            // SAFETY: only `park` stores into `parked`, an `into_raw` of a
            // `watch_link` item, and the swap took it out once.
            let item = unsafe { IoWorkItem::<watch_link>::from_raw(raw) };
            item.queue((), WorkQueue::Delayed, irql);
        }
    }

    /// Stop, at PASSIVE_LEVEL: the drain is neither queued nor running after
    /// it returns.
    pub fn stop(&self, irql: &Passive<'_>) {
        self.drain.flush(irql);
    }
}

impl Drop for Port {
    /// The device is being deleted: a parked item (which references the
    /// device) goes with the port.
    fn drop(&mut self) {
        Self::free_parked(*self.parked.get_mut());
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

/// AddDevice: the functional device object with its port as the
/// extension, its first work, and the device given to its object (taken
/// back by [`device_removed`]). A failure deletes the device.
pub fn device_added(driver: &DriverObject, irql: &Passive<'_>) -> Result<(), NTSTATUS> {
    let options = DeviceOptions::new(FILE_DEVICE_UNKNOWN);
    let device = Device::create_with(driver, options, irql, |device| {
        Ok::<_, NTSTATUS>(Port {
            drain: ReusableIoWorkItem::new(device, irql)?,
            parked: AtomicPtr::new(core::ptr::null_mut()),
            samples: AtomicU32::new(0),
        })
    })?;
    let object = device.object();
    probe_device::queue(object, 0, WorkQueue::Delayed, irql)?;
    retry_reset::queue(object, 3, WorkQueue::Delayed, irql)?;
    IoWorkItem::<watch_link>::new(object, irql)?.queue((), WorkQueue::Delayed, irql);
    record_device::queue(1, WorkQueue::Delayed, irql)?;
    device.extension().sample_arrived(irql);
    device.extension().link_changed(irql);
    let _fdo = device.into_raw();
    Ok(())
}

/// Removal (`IRP_MN_REMOVE_DEVICE`; this driver's unload): stop the port,
/// delete the device, which drops the port.
///
/// # Safety
///
/// `fdo` is a device [`device_added`] created, removed once; nothing uses
/// it after this call.
pub unsafe fn device_removed(fdo: PDEVICE_OBJECT, irql: &Passive<'_>) {
    // SAFETY: `device_added` gave the device up with `into_raw` as a
    // `Device<Port>`; this is its one removal, and nothing uses `fdo` after
    // the delete (the contract).
    let device = unsafe { Device::<Port>::from_raw(fdo) };
    device.extension().stop(irql);
    device.delete(irql);
}
