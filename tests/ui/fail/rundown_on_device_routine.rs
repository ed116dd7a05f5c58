//! A rundown is for Ex work: Io work keeps its device referenced instead.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(device, rundown = WORK)]
fn reset(device: &DeviceObject, attempt: u32) {
    let _ = (device, attempt);
}

fn on_error(device: &DeviceObject) {
    let _ = reset::queue(device, 1, WorkQueue::Delayed, &Passive::on_host());
}

fn main() {
    let _ = on_error;
}
