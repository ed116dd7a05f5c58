//! The worker thread lends the proof for the call: by reference.

use ntwork::irql::Passive;
use ntwork::work_item;

#[work_item]
fn flush_log(lines: Vec<String>, irql: Passive<'static>) {
    let _ = (lines, irql);
}

fn main() {}
