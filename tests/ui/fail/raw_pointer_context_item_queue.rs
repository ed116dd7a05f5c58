//! A device routine whose raw-pointer context is rejected, then its item's
//! queue call: one mistake, two errors today. The helpers keep the user's
//! `*mut c_void`, but the trait impls cannot (`Routine::Context` must be
//! `Send`, checked at the impl), so the stand-in's `Context` is `()` and the
//! item's `queue`, which takes `Routine::Context`, adds an E0308
//! (`tests/ui.rs`, `SEVERAL`).

use core::ffi::c_void;

use ntwork::{DeviceObject, IoWorkItem, WorkQueue, work_item};

#[work_item]
fn complete_later(device: &DeviceObject, irp: *mut c_void) {
    let _ = (device, irp);
}

fn on_dispatch(device: &DeviceObject, irp: *mut c_void) {
    let _ = complete_later::queue(device, irp, WorkQueue::Delayed);
    let _ = IoWorkItem::<complete_later>::new(device).map(|item| item.queue(irp, WorkQueue::Delayed));
}

fn main() {
    let _ = on_dispatch;
}
