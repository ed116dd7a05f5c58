//! A device routine queued as an Ex one, without its device: E0061 naming the
//! missing `&DeviceObject`.
use ntwork::irql::Dispatch;
use ntwork::{DeviceObject, WorkQueue, work_item};

#[work_item(device)]
fn reset(device: &DeviceObject, attempts: u32) {
    let _ = (device, attempts);
}

fn dpc(irql: &Dispatch<'_>) {
    let _ = reset::queue(3, WorkQueue::Delayed, irql);
}

fn main() {
    let _ = dpc;
}
