//! A KMDF routine that owns its context, as an Ex routine does: the item
//! keeps it, the callback borrows it.
use ntwork::work_item;

#[work_item(wdf)]
fn drain(samples: Vec<u32>) {
    let _ = samples;
}

fn main() {}
