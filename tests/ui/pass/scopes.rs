//! Inside a function body, in nested modules, with `pub(crate)`/`pub(super)`
//! visibility, and beside `mod core {}` / `mod std {}` that shadow the
//! standard crates by name.

#![deny(warnings)]

mod core {}
mod std {}
#[allow(dead_code)]
mod ntwork_shadow {
    pub struct Result;
    pub struct Option;
    pub struct Some;
}
use ntwork::irql::Dispatch;
#[allow(unused_imports)]
use ntwork_shadow::{Option, Result, Some};

mod outer {
    pub(crate) mod inner {
        use ::ntwork::{DeviceObject, work_item};

        #[work_item]
        pub(crate) fn nested(value: u8) {
            let _ = value;
        }

        #[work_item]
        pub(super) fn device_nested(device: &DeviceObject, value: u8) {
            let _ = (device, value);
        }
    }

    pub(crate) fn use_super() {
        let _ = inner::device_nested::ROUTINE;
    }
}

fn main() {
    #[::ntwork::work_item]
    fn local(value: &u16) {
        let _ = value;
    }

    #[::ntwork::work_item]
    fn local_unit() {}

    // Not called: the host executive is not linked into ui tests.
    let _: fn(
        &'static ::ntwork::Rundown,
        u16,
        ::ntwork::WorkQueue,
        &Dispatch<'static>,
    ) -> ::core::result::Result<(), ::ntwork::QueueError<u16>> = local::queue;
    let _ = (local_unit::ROUTINE, outer::inner::nested::ROUTINE);
    outer::use_super();
    local(&1);
}
