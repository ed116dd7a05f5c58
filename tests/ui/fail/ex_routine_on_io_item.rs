//! An Ex routine where an Io item is required: the item a port from C
//! allocates in AddDevice names the wrong routine.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, IoWorkItem, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn allocate_retry(device: &DeviceObject) -> IoWorkItem<flush> {
    IoWorkItem::new(device, &Passive::on_host()).unwrap()
}

fn main() {
    let _ = allocate_retry;
}
