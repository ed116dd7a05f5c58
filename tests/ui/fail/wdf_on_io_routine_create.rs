//! `create` called on a device routine: rustc's E0599 'no function create'
//! at `create`, not naming `#[work_item(wdf)]`. Listed in docs/checks.md.
use ntwork::irql::Passive;
use ntwork::wdf::{Serialization, WdfDevice};
use ntwork::{DeviceObject, work_item};

#[work_item(device)]
fn reset(device: &DeviceObject, attempts: u32) {
    let _ = (device, attempts);
}

fn add(device: &WdfDevice, irql: &Passive<'_>) {
    let _ = reset::create(device, 3, Serialization::None, irql);
}

fn main() {
    let _ = add;
}
