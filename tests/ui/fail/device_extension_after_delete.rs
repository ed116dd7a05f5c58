use std::sync::atomic::{AtomicU32, Ordering};

use ntwork::Device;
use ntwork::irql::Passive;

struct Port {
    interrupts: AtomicU32,
}

/// IRP_MN_REMOVE_DEVICE: the extension is dropped by the delete, so a
/// reference to it cannot be used after.
fn remove(device: Device<Port>, irql: &Passive<'_>) -> u32 {
    let port = device.extension();
    device.delete(irql);
    port.interrupts.load(Ordering::Relaxed)
}

fn main() {}
