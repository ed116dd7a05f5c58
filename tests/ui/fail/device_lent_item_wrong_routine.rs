use ntwork::{DeviceObject, RunningIoWorkItem, work_item};

#[work_item]
fn other(device: &DeviceObject, count: u32) {
    let _ = (device, count);
}

#[work_item]
fn poll(device: &DeviceObject, count: u32, item: RunningIoWorkItem<'_, other>) {
    let _ = (device, count, item);
}

fn main() {}
