//! An Ex routine where a KMDF routine is required.

use ntwork::wdf::WdfWorkItem;
use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn take(_item: WdfWorkItem<flush>) {}

fn main() {}
