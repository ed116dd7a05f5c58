//! A generic routine: one error, and calls written against it still check.

use ntwork::{WorkQueue, work_item};

#[work_item]
fn broken<T: Send + 'static>(value: T) {
    let _ = value;
}

fn uses() {
    let _ = broken::queue(1_u8, WorkQueue::Delayed);
    let _ = broken::queue("text", WorkQueue::Delayed);
}

fn main() {
    let _ = uses;
}
