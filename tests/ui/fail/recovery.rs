//! One error (the `async`), and nothing else: the stand-in items keep every
//! other use of the routine, and the routine beside it, compiling.

use ntwork::irql::Passive;
use ntwork::{ExWorkItem, Rundown, WorkQueue, work_item};

static UNLOAD: Rundown = Rundown::new();

#[work_item]
async fn broken(batch: Vec<u8>) {
    let _ = batch;
}

#[work_item]
fn fine(batch: Vec<u8>) {
    let _ = batch;
}

fn uses(item: ExWorkItem<broken>) {
    item.queue(&UNLOAD, WorkQueue::Delayed, &Passive::on_host());
    let _ = broken::new(vec![1], &Passive::on_host()).map(|item| item.queue(&UNLOAD, WorkQueue::Normal, &Passive::on_host()));
    let _ = broken::queue(&UNLOAD, vec![2], WorkQueue::Delayed, &Passive::on_host());
    let _ = broken::ROUTINE;
    let _ = fine::queue(&UNLOAD, vec![3], WorkQueue::Delayed, &Passive::on_host());
    let _ = fine::ROUTINE;
}

fn main() {
    let _ = uses;
}
