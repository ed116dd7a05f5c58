//! A device made optional, `Option<&DeviceObject>`: one error at the type
//! (the kernel always lends one), not the Ex shape's.
use ntwork::{DeviceObject, work_item};

#[work_item]
fn reset(device: Option<&DeviceObject>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
