//! A driver that cannot unload counts its Ex work nowhere: a rundown too is a
//! contradiction.

use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK, unsafe(never_unloads))]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(vec![1], WorkQueue::Delayed, &Passive::on_host());
}
