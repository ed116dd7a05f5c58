use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

static UNLOAD: Rundown = Rundown::new();

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(&UNLOAD, vec![1], WorkQueue::HyperCritical, &Passive::on_host());
}
