use ntwork::{DeviceObject, IoWorkItem, work_item};

#[work_item]
fn other(device: &DeviceObject, count: u32) {
    let _ = (device, count);
}

#[work_item]
fn requeue(device: &DeviceObject, count: u32, item: IoWorkItem<other>) {
    let _ = (device, count, item);
}

fn main() {}
