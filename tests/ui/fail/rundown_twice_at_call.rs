//! The rundown in the attribute and again at the call: rustc's one E0061 at
//! the call; its 'did you mean' passes `&WORK` as the IRQL proof. Listed in
//! docs/checks.md as rustc's, not the attribute's.
use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(&WORK, vec![1], WorkQueue::Delayed, &Passive::on_host());
}
