//! `rundown =` names the driver's `static Rundown`, not some other static.

use ntwork::irql::Passive;
use std::sync::atomic::AtomicU32;

use ntwork::{WorkQueue, work_item};

static PENDING: AtomicU32 = AtomicU32::new(0);

#[work_item(rundown = PENDING)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(vec![1], WorkQueue::Delayed, &Passive::on_host());
}
