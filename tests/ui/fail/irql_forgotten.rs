//! `IoCreateDevice` ported from C, which has no IRQL argument: the proof is
//! forgotten.

use std::sync::atomic::AtomicU32;

use ntwork::ffi::FILE_DEVICE_UNKNOWN;
use ntwork::{Device, DeviceOptions, DriverObject};

struct Port {
    interrupts: AtomicU32,
}

fn add_device(driver: &DriverObject) {
    let port = Port {
        interrupts: AtomicU32::new(0),
    };
    let _device = Device::create(driver, port, DeviceOptions::new(FILE_DEVICE_UNKNOWN));
}

fn main() {}
