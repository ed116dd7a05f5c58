use ntwork::{DeviceObject, RunningIoWorkItem, WorkQueue, work_item};

// The item borrowed, as the routine only requeues it: it is taken by value.
#[work_item]
fn poll(device: &DeviceObject, count: u32, item: &RunningIoWorkItem<'_, poll>) {
    let _ = (device, count, item, WorkQueue::Delayed);
}

fn main() {}
