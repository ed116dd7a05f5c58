use ntwork::{ffi, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn init(item: *mut ffi::WORK_QUEUE_ITEM) {
    // SAFETY: never called; this only type-checks the call.
    let _ = unsafe { flush::initialize(item, String::from("not a batch")) };
}

fn main() {
    let _ = init;
}
