//! The central mistake: a device-bound routine put on the Ex path, in
//! expression position.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, ExWorkItem, work_item};

#[work_item(device)]
fn flush(device: &DeviceObject, batch: Vec<u8>) {
    let _ = (device, batch);
}

fn main() {
    let _ = ExWorkItem::<flush>::new(vec![1, 2, 3], &Passive::on_host());
}
