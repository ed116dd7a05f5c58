//! A `#![forbid(unsafe_code)]` crate can define every kind of routine: the
//! generated `unsafe` is forwarding only and comes from the macro expansion,
//! which the `unsafe_code` lint does not report (as for pin-project).

#![forbid(unsafe_code)]

use ntwork::irql::Dispatch;
use ntwork::{DeviceObject, IoWorkItem, WorkQueue, work_item};

#[work_item]
fn owned(value: u32) {
    let _ = value;
}

#[work_item]
fn borrowed(value: &u32) {
    let _ = value;
}

#[work_item]
fn device(device: &DeviceObject, value: u32) {
    let _ = (device, value);
}

#[work_item]
fn device_ex(device: &DeviceObject, value: u32, item: IoWorkItem<device_ex>) {
    let _ = (device, value, item);
}

fn main() {
    let _: fn(&'static ntwork::Rundown, u32, WorkQueue, &Dispatch<'static>) -> Result<(), ntwork::QueueError<u32>> =
        owned::queue;
    let _ = (borrowed::ROUTINE, device::ROUTINE);
    let _: fn(&DeviceObject, u32, WorkQueue, &Dispatch<'static>) -> Result<(), ntwork::AllocError<u32>> = device_ex::queue;
}
