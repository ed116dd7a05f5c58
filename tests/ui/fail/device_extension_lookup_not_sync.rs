//! A dispatch routine looks up an extension type with a `Cell` member: no
//! device can have it (it is shared between threads).

use std::cell::Cell;

use ntwork::DeviceObject;
use ntwork::irql::Passive;

struct Port {
    interrupts: Cell<u32>,
}

fn dispatch_create(device: &DeviceObject, irql: &Passive<'_>) -> u32 {
    let port = device.extension::<Port>(irql).unwrap();
    port.interrupts.get()
}

fn main() {
    let _ = dispatch_create;
}
