//! The `rundown` key misspelled: one error at the key, listing the arguments.
use ntwork::{Rundown, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(rundwon = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
