//! One error (the `async`), and nothing else: the stand-in items keep every
//! other use of the routine, and the routine beside it, compiling.

use ntwork::{ExWorkItem, WorkQueue, work_item};

#[work_item]
async fn broken(batch: Vec<u8>) {
    let _ = batch;
}

#[work_item]
fn fine(batch: Vec<u8>) {
    let _ = batch;
}

fn uses(item: ExWorkItem<broken>) {
    item.queue(WorkQueue::Delayed);
    let _ = broken::new(vec![1]).map(|item| item.queue(WorkQueue::Normal));
    let _ = broken::queue(vec![2], WorkQueue::Delayed);
    let _ = broken::ROUTINE;
    let _ = fine::queue(vec![3], WorkQueue::Delayed);
    let _ = fine::ROUTINE;
}

fn main() {
    let _ = uses;
}
