//! An Ex routine where a KMDF routine is required.

use ntwork::irql::Passive;
use ntwork::wdf::{Serialization, WdfDevice, WdfWorkItem};
use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn add(device: &WdfDevice) -> WdfWorkItem<flush> {
    WdfWorkItem::create(device, vec![1], Serialization::None, &Passive::on_host()).unwrap()
}

fn main() {
    let _ = add;
}
