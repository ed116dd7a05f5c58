//! KNOWN BAD: a KMDF routine taking a `&DeviceObject` first: the error points
//! at the context, the last parameter, not at the device.
use ntwork::{DeviceObject, work_item};

struct Ctx;

#[work_item(wdf)]
fn drain(device: &DeviceObject, context: &Ctx) {
    let _ = (device, context);
}

fn main() {}
