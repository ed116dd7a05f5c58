//! All of the driver's use of ntwork: a `WDFWORKITEM` kept in its device's
//! context, enqueued by the device's events, disposed with the device.

use core::sync::atomic::{AtomicU32, Ordering};

use ntwork::ffi::wdf::WDFDEVICE;
use ntwork::ffi::{NTSTATUS, STATUS_SUCCESS};
use ntwork::irql::{AtMostDispatch, Passive};
use ntwork::wdf::{Serialization, WdfDevice, WdfWorkItemRef};
use ntwork::work_item;

/// The item's context: what the device's events leave for PASSIVE_LEVEL.
pub struct Samples {
    pending: AtomicU32,
    drained: AtomicU32,
}

/// EvtWorkItem: takes every pending sample (enqueues while it is queued
/// coalesce into this run).
#[work_item(wdf)]
fn drain_samples(samples: &Samples) {
    let batch = samples.pending.swap(0, Ordering::AcqRel);
    samples.drained.fetch_add(batch, Ordering::AcqRel);
}

/// EvtDriverDeviceAdd, after WdfDeviceCreate: the item, under the device,
/// kept in the device's context space.
///
/// # Safety
///
/// `device` is the device just created, not deleted while this runs; the
/// caller runs at PASSIVE_LEVEL (EvtDriverDeviceAdd does).
pub unsafe fn device_added(device: WDFDEVICE) -> NTSTATUS {
    // SAFETY: the caller's contract; the item below is left to the device.
    let device = unsafe { WdfDevice::from_raw(device) };
    // SAFETY: the caller runs at PASSIVE_LEVEL for this call (the contract).
    let irql = unsafe { Passive::assume() };
    let samples = Samples {
        pending: AtomicU32::new(0),
        drained: AtomicU32::new(0),
    };
    let created = drain_samples::create(device, samples, Serialization::None, &irql);
    match created.map(|item| item.keep_in_parent(&irql)) {
        Ok(Ok(())) => {
            sample_arrived(device, &irql);
            STATUS_SUCCESS
        }
        // The item is dropped (deleted) with the error.
        Ok(Err(refused)) => refused.status,
        Err(refused) => refused.status,
    }
}

/// A sample (from the device's EvtInterruptDpc, at DISPATCH_LEVEL, or
/// PASSIVE_LEVEL code): counted, and the kept item enqueued.
fn sample_arrived(device: &WdfDevice, irql: &impl AtMostDispatch) {
    if let Some(item) = WdfWorkItemRef::<drain_samples>::kept(device) {
        item.context().pending.fetch_add(1, Ordering::AcqRel);
        let _ = item.enqueue(irql);
    }
}

/// EvtDeviceD0Exit: no callback runs past this point.
#[allow(dead_code, reason = "registered by a driver's PnP power callbacks")]
fn device_stopping(device: &WdfDevice, irql: &Passive<'_>) {
    if let Some(item) = WdfWorkItemRef::<drain_samples>::kept(device) {
        item.flush(irql);
    }
}
