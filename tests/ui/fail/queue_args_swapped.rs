//! `queue`'s context and queue swapped: rustc's E0308 at the call, suggesting
//! the swap.
use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(WorkQueue::Delayed, vec![1], &Passive::on_host());
}
