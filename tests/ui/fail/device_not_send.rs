use std::rc::Rc;

use ntwork::{DeviceObject, work_item};

#[work_item]
fn flush(device: &DeviceObject, batch: Rc<Vec<u8>>) {
    let _ = (device, batch);
}

fn main() {}
