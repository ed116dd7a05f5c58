//! A device routine with two context values: bundle them.
use ntwork::{DeviceObject, work_item};

#[work_item(device)]
fn reset(device: &DeviceObject, attempts: u32, delay_ms: u32) {
    let _ = (device, attempts, delay_ms);
}

fn main() {}
