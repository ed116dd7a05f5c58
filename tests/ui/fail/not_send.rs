//! An `Rc` context: the one error names `Arc`; the queue call written for it
//! adds none.

use ntwork::irql::Passive;
use std::rc::Rc;

use ntwork::{Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item]
fn flush(batch: Rc<Vec<u8>>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(&WORK, Rc::new(vec![1]), WorkQueue::Delayed, &Passive::on_host());
}
