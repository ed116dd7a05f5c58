//! The C driver cached `DeviceObject->DeviceExtension` in a global; the
//! extension's guard borrows the device object for the dispatch routine only.

use std::sync::atomic::AtomicU32;

use ntwork::irql::Passive;
use ntwork::{DeviceObject, ExtensionRef};

struct Port {
    interrupts: AtomicU32,
}

struct Cache {
    port: Option<ExtensionRef<'static, Port>>,
}

fn dispatch_create(device: &DeviceObject, cache: &mut Cache, irql: &Passive<'_>) {
    cache.port = device.extension::<Port>(irql);
}

fn main() {
    let _ = dispatch_create;
}
