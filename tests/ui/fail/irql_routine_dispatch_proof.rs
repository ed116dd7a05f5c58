//! A work-item routine runs at PASSIVE_LEVEL on a system worker thread: the
//! proof it may ask for is `&Passive<'_>`.

use ntwork::irql::Dispatch;
use ntwork::work_item;

#[work_item]
fn flush_log(lines: Vec<String>, irql: &Dispatch<'_>) {
    let _ = (lines, irql);
}

fn main() {}
