//! IRP_MN_REMOVE_DEVICE work moved into a DPC: IoDeleteDevice waits for the
//! device's routines and guards, so `Device::delete` needs PASSIVE_LEVEL.

use std::sync::atomic::AtomicU32;

use ntwork::Device;
use ntwork::irql::Dispatch;

struct Port {
    interrupts: AtomicU32,
}

fn surprise_removal_dpc(device: Device<Port>, irql: &Dispatch<'_>) {
    device.delete(irql);
}

fn main() {
    let _ = surprise_removal_dpc;
}
