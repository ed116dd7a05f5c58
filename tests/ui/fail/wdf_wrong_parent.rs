//! A work item's parent here is a device; a queue handle is another kind.

use ntwork::irql::Passive;
use std::sync::atomic::AtomicU32;

use ntwork::wdf::{Serialization, WdfQueue};
use ntwork::work_item;

#[work_item(wdf)]
fn drain(count: &AtomicU32) {
    let _ = count;
}

fn create(queue: &WdfQueue) {
    let _ = drain::create(queue, AtomicU32::new(0), Serialization::None, &Passive::on_host());
}

fn main() {}
