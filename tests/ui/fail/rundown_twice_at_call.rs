//! KNOWN BAD (suggestion): the rundown in the attribute and again at the
//! call: E0061 whose 'did you mean' passes `&WORK` as the IRQL proof.
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
