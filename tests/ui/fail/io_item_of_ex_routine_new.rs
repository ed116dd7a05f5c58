use ntwork::irql::Passive;
use ntwork::{DeviceObject, IoWorkItem, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn make(device: &DeviceObject) {
    let _ = IoWorkItem::<flush>::new(device, &Passive::on_host());
}

fn main() {}
