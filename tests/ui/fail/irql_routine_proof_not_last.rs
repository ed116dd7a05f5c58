//! The proof comes after the routine's other parameters.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, work_item};

#[work_item(device)]
fn reset(device: &DeviceObject, irql: &Passive<'_>, attempt: u32) {
    let _ = (device, irql, attempt);
}

fn main() {}
