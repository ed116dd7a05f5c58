//! KNOWN BAD (text): the rundown a `static mut`: rustc's E0133 suggests an
//! unsafe block; the fix is a plain `static` (a `Rundown` is shared, not
//! mutated).
use ntwork::{Rundown, work_item};

static mut WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
