//! A device routine whose raw-pointer context is rejected, then its item's
//! queue call: one error, the runtime's `WorkContext` at the user's type
//! (naming the newtype fix). The generated items keep `*mut c_void`, so the
//! item's `queue` adds nothing.

use ntwork::irql::Passive;
use core::ffi::c_void;

use ntwork::{DeviceObject, IoWorkItem, WorkQueue, work_item};

#[work_item]
fn complete_later(device: &DeviceObject, irp: *mut c_void) {
    let _ = (device, irp);
}

fn on_dispatch(device: &DeviceObject, irp: *mut c_void) {
    let _ = complete_later::queue(device, irp, WorkQueue::Delayed, &Passive::on_host());
    let _ = IoWorkItem::<complete_later>::new(device, &Passive::on_host()).map(|item| item.queue(irp, WorkQueue::Delayed, &Passive::on_host()));
}

fn main() {
    let _ = on_dispatch;
}
