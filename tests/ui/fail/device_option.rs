//! KNOWN BAD (2 errors): a device made optional, `Option<&DeviceObject>`; it
//! is not seen as the device, so the Ex shape and the context's lifetime are
//! both reported. One error at the type would say: the device parameter is
//! `&DeviceObject`.
use ntwork::{DeviceObject, work_item};

#[work_item]
fn reset(device: Option<&DeviceObject>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
