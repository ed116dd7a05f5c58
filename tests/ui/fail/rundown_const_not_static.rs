//! A `const` Rundown is a new value at every use: DriverUnload would wait on
//! another one. The rundown must be a `static`.

use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

const WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(vec![1], WorkQueue::Delayed, &Passive::on_host());
}
