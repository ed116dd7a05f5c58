//! The proof is made in DriverUnload's own code and passed by value.

use std::sync::atomic::AtomicU32;

use ntwork::Device;
use ntwork::irql::Passive;

struct Port {
    interrupts: AtomicU32,
}

fn remove(device: Device<Port>) {
    // SAFETY: IRP_MN_REMOVE_DEVICE is sent at PASSIVE_LEVEL.
    let irql = unsafe { Passive::assume() };
    device.delete(irql);
}

fn main() {
    let _ = remove;
}
