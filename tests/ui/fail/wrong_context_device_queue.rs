use ntwork::irql::Passive;
use ntwork::{DeviceObject, WorkQueue, work_item};

#[work_item]
fn flush(device: &DeviceObject, batch: Vec<u8>) {
    let _ = (device, batch);
}

fn queue(device: &DeviceObject) {
    let _ = flush::queue(device, 7_u8, WorkQueue::Delayed, &Passive::on_host());
}

fn main() {
    let _ = queue;
}
