//! A KMDF context is borrowed by the callback while the driver may read it:
//! `Cell` is not `Sync`.

use std::cell::Cell;

use ntwork::work_item;

#[work_item(wdf)]
fn drain(count: &Cell<u32>) {
    let _ = count;
}

fn main() {}
