//! An edition 2021 user crate with strict lints (checked by `tests/ui.rs`).
#![no_std]
#![deny(
    warnings,
    missing_docs,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    rust_2018_idioms
)]
#![forbid(unsafe_code)]
#![warn(clippy::pedantic)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

use ::core::sync::atomic::{AtomicU32, Ordering};
use alloc::vec::Vec;
use ntwork::{DeviceObject, IoWorkItem, Rundown, WorkQueue, work_item};

mod core {}
mod std {}

/// Owned.
#[work_item]
pub fn owned(batch: Vec<u8>) {
    drop(batch);
}

/// Borrowed.
#[work_item(ex)]
pub fn borrowed(count: &AtomicU32) {
    count.fetch_add(1, Ordering::Relaxed);
}

/// Unit.
#[work_item]
pub fn unit() {}

/// Device.
#[work_item]
pub fn device(device: &DeviceObject, value: u32) {
    let _ = (device, value);
}

/// Device with its item.
#[work_item(device)]
pub fn device_ex(
    device: &DeviceObject,
    value: u32,
    item: IoWorkItem<device_ex>,
    irql: &ntwork::irql::Passive<'_>,
) {
    let _ = device;
    if value > 0 {
        item.queue(value - 1, WorkQueue::Delayed, irql);
    }
}

/// Unit device.
#[work_item(device)]
pub fn device_unit(device: &DeviceObject) {
    let _ = device;
}

pub(crate) mod inner {
    #[ntwork::work_item]
    pub(crate) fn nested(value: u8) {
        let _ = value;
    }
}

/// Counts the driver's Ex work; DriverUnload waits on it.
pub static UNLOAD: Rundown = Rundown::new();

/// Queue things.
///
/// # Errors
/// On low resources.
pub fn go(
    device: &DeviceObject,
    irql: &ntwork::irql::Dispatch<'_>,
) -> Result<(), ntwork::AllocError<u32>> {
    let _ = owned::queue(&UNLOAD, Vec::new(), WorkQueue::Delayed, irql);
    let _ = unit::queue(&UNLOAD, WorkQueue::Normal, irql);
    let _ = inner::nested::queue(&UNLOAD, 1, WorkQueue::Normal, irql);
    let _ = device_unit::queue(device, WorkQueue::Delayed, irql);
    device::queue(device, 3, WorkQueue::Delayed, irql)
}
