//! The callback's own handle has no `flush`: it would wait for itself.

use std::sync::atomic::AtomicU32;

use ntwork::wdf::RunningWdfWorkItem;
use ntwork::work_item;

#[work_item(wdf)]
fn drain(count: &AtomicU32, item: &RunningWdfWorkItem<'_, drain>) {
    let _ = count;
    item.flush();
}

fn main() {}
