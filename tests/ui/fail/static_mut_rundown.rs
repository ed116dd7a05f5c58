//! The rundown a `static mut`: rustc's E0133 at `WORK` suggests an unsafe
//! block; the fix is a plain `static` (a `Rundown` is shared, not mutated).
//! The attribute sees only the path. Listed in docs/checks.md.
use ntwork::{Rundown, work_item};

static mut WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
