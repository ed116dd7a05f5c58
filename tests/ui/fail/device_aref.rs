//! The device taken as `ARef<DeviceObject>` to keep it: one error at the
//! type, naming `&DeviceObject` and `ARef::from(device)` in the body.
use ntwork::{ARef, DeviceObject, work_item};

#[work_item]
fn reset(device: ARef<DeviceObject>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
