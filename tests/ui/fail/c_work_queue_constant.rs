//! The C constant `DelayedWorkQueue` where a `WorkQueue` is expected.
use ntwork::irql::Passive;
use ntwork::{Rundown, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(vec![1], ntwork::ffi::DelayedWorkQueue, &Passive::on_host());
}
