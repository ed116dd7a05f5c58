//! A crate with strict lints: generated items are documented, carry the
//! function's visibility, and need no lint exception.

#![deny(
    warnings,
    missing_docs,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    rust_2018_idioms
)]
#![deny(
    unused_qualifications,
    non_camel_case_types,
    missing_debug_implementations
)]
#![allow(missing_debug_implementations)]

//! Strict.

use ntwork::{DeviceObject, IoWorkItem, work_item};

/// Owned.
#[work_item]
pub fn owned(value: Vec<u8>) {
    let _ = value;
}

/// Borrowed.
#[work_item]
pub fn borrowed(value: &u32) {
    let _ = value;
}

/// Unit.
#[work_item]
pub fn unit() {}

/// Device.
#[work_item(device)]
pub fn device(device: &DeviceObject, value: u8) {
    let _ = (device, value);
}

/// Device with its item.
#[work_item]
pub fn device_ex(device: &DeviceObject, value: u8, item: IoWorkItem<device_ex>) {
    let _ = (device, value, item);
}

mod private {
    use ntwork::work_item;

    #[work_item]
    pub(crate) fn crate_visible(value: u8) {
        let _ = value;
    }

    #[work_item]
    fn private(value: u8) {
        let _ = value;
    }

    pub(crate) fn touch() {
        let _ = private::ROUTINE;
    }
}

fn main() {
    let _ = private::crate_visible::ROUTINE;
    private::touch();
}
