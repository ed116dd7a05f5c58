use std::cell::Cell;

use ntwork::ffi::FILE_DEVICE_UNKNOWN;
use ntwork::irql::Passive;
use ntwork::{Device, DeviceOptions, DriverObject};

/// The state a C driver keeps in its device extension; the DPC and the work
/// item routine use it on other threads, so a `Cell` cannot hold it.
struct Port {
    interrupts: Cell<u32>,
}

fn add_device(driver: &DriverObject, irql: &Passive<'_>) {
    let port = Port {
        interrupts: Cell::new(0),
    };
    let _device = Device::create(driver, port, DeviceOptions::new(FILE_DEVICE_UNKNOWN), irql);
}

fn main() {}
