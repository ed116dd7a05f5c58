//! Queueing needs a proof of IRQL <= DISPATCH_LEVEL, not just any reference.

use ntwork::{Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush_log(lines: Vec<String>) {
    let _ = lines;
}

fn on_error() {
    let _ = flush_log::queue(Vec::new(), WorkQueue::Delayed, &());
}

fn main() {
    let _ = on_error;
}
