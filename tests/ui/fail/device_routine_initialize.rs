use ntwork::{DeviceObject, ffi, work_item};

#[work_item(device)]
fn flush(device: &DeviceObject, batch: Vec<u8>) {
    let _ = (device, batch);
}

fn main() {
    let mut item = core::mem::MaybeUninit::<ffi::WORK_QUEUE_ITEM>::uninit();
    // SAFETY: never reached; the call does not compile.
    let _ = unsafe { flush::initialize(item.as_mut_ptr(), vec![1u8]) };
}
