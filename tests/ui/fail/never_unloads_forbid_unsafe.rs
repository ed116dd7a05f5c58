//! `unsafe(never_unloads)` is the user's unsafe claim: a crate that forbids
//! unsafe code rejects it, at the `unsafe` token.

#![forbid(unsafe_code)]

use ntwork::irql::Passive;
use ntwork::{WorkQueue, work_item};

#[work_item(unsafe(never_unloads))]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(vec![1], WorkQueue::Delayed, &Passive::on_host());
}
