//! The C extension had no lock (the DPC and the routines "never overlapped"),
//! so the port wraps it in a `RefCell`: it is shared between threads.

use std::cell::RefCell;

use ntwork::ffi::FILE_DEVICE_UNKNOWN;
use ntwork::irql::Passive;
use ntwork::{Device, DeviceOptions, DriverObject};

struct Port {
    pending: Vec<u32>,
}

fn add_device(driver: &DriverObject, irql: &Passive<'_>) {
    let port = RefCell::new(Port {
        pending: Vec::new(),
    });
    let _device = Device::create(driver, port, DeviceOptions::new(FILE_DEVICE_UNKNOWN), irql);
}

fn main() {}
