//! A device routine that borrows its context, used from a reusable Io item
//! as the C code kept one `IO_WORKITEM` in the device extension: the shape is
//! the one error; the item and its queue call, written for the context type
//! the fix names (`count: u32`), add none.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, ReusableIoWorkItem, WorkQueue, work_item};

#[work_item(device)]
fn tick(device: &DeviceObject, count: &u32) {
    let _ = (device, count);
}

fn add_device(device: &DeviceObject) {
    let item = ReusableIoWorkItem::<tick>::new(device, &Passive::on_host()).unwrap();
    let _ = item.queue(5, WorkQueue::Delayed, &Passive::on_host());
}

fn main() {
    let _ = add_device;
}
