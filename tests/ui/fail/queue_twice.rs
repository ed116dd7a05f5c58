use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

static UNLOAD: Rundown = Rundown::new();

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let item = flush::new(vec![1, 2, 3], &Passive::on_host()).unwrap();
    item.queue(&UNLOAD, WorkQueue::Delayed, &Passive::on_host());
    item.queue(&UNLOAD, WorkQueue::Delayed, &Passive::on_host());
}
