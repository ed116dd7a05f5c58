//! One error (the `async`): the stand-in keeps the context type the user
//! wrote, so an item made through the runtime's own type, which takes
//! `Routine::Context`, adds none (it was `()`: an E0308).

use ntwork::irql::Passive;
use ntwork::{ExWorkItem, Rundown, WorkQueue, work_item};

static UNLOAD: Rundown = Rundown::new();

#[work_item]
async fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = ExWorkItem::<flush>::new(vec![1], &Passive::on_host()).map(|item| item.queue(&UNLOAD, WorkQueue::Delayed, &Passive::on_host()));
}
