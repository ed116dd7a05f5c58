//! A routine that owns its context cannot run many times from one item.

use ntwork::{ReusableExWorkItem, Rundown, work_item};

static WORK: Rundown = Rundown::new();

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

static FLUSH: ReusableExWorkItem<flush> = ReusableExWorkItem::new(&WORK, Vec::new());

fn main() {
    let _ = &FLUSH;
}
