//! `unsafe(never_unloads)` is for Ex work: Io work keeps its device referenced.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, WorkQueue, work_item};

#[work_item(device, unsafe(never_unloads))]
fn reset(device: &DeviceObject, attempt: u32) {
    let _ = (device, attempt);
}

fn on_error(device: &DeviceObject) {
    let _ = reset::queue(device, 1, WorkQueue::Delayed, &Passive::on_host());
}

fn main() {
    let _ = on_error;
}
