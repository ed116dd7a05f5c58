//! KNOWN BAD: the device taken as `ARef<DeviceObject>` to keep it; the error
//! is the Ex shape's, at the second parameter, not at the device's type.
use ntwork::{ARef, DeviceObject, work_item};

#[work_item]
fn reset(device: ARef<DeviceObject>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
