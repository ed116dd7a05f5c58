//! A generic routine: one error, and calls written against it still check.

use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

static UNLOAD: Rundown = Rundown::new();

#[work_item]
fn broken<T: Send + 'static>(value: T) {
    let _ = value;
}

fn uses() {
    let _ = broken::queue(&UNLOAD, 1_u8, WorkQueue::Delayed, &Passive::on_host());
    let _ = broken::queue(&UNLOAD, "text", WorkQueue::Delayed, &Passive::on_host());
}

fn main() {
    let _ = uses;
}
