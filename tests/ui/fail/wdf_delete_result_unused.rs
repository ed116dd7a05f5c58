//! The one-shot item's delete, its result ignored: `false` means nothing is
//! deleted (a `WdfWorkItem` still owns the item). A warning; denied here so
//! the case pins it.
#![deny(unused_must_use)]

use std::sync::atomic::AtomicU32;

use ntwork::wdf::RunningWdfWorkItem;
use ntwork::work_item;

#[work_item(wdf)]
fn receive(count: &AtomicU32, item: &RunningWdfWorkItem<'_, receive>) {
    let _ = count;
    item.delete();
}

fn main() {}
