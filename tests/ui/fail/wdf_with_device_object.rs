//! A KMDF routine written in the WDM shape, `&DeviceObject` first: one error
//! at the device parameter, naming the KMDF shape and `item.parent()`.
use ntwork::{DeviceObject, work_item};

struct Ctx;

#[work_item(wdf)]
fn drain(device: &DeviceObject, context: &Ctx) {
    let _ = (device, context);
}

fn main() {}
