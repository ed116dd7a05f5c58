//! Asking a device for the kept item of an Ex routine.

use ntwork::wdf::{WdfDevice, WdfWorkItemRef};
use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn dpc(device: &WdfDevice) {
    if let Some(item) = WdfWorkItemRef::<flush>::kept(device) {
        let _ = item;
    }
}

fn main() {
    let _ = dpc;
}
