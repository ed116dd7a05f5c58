//! `crate = path`: a crate that re-exports ntwork under another name.

use ntwork::irql::Dispatch;

mod runtime {
    pub use ::ntwork as rt;
}

#[ntwork::work_item(crate = crate::runtime::rt)]
fn reexported(value: u32) {
    let _ = value;
}

#[ntwork::work_item(device, crate = runtime::rt)]
fn reexported_device(device: &runtime::rt::DeviceObject, value: u32) {
    let _ = (device, value);
}

fn main() {
    let _: fn(
        &'static runtime::rt::Rundown,
        u32,
        runtime::rt::WorkQueue,
        &Dispatch<'static>,
    ) -> Result<(), runtime::rt::QueueError<u32>> = reexported::queue;
    let _ = reexported_device::ROUTINE;
}
