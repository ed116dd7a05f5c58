//! The C driver enqueued its one-shot item and kept using the handle; after
//! `enqueue_and_leave` the item is its parent's (its callback may delete it).

use std::sync::atomic::AtomicU32;

use ntwork::irql::Passive;
use ntwork::wdf::{Serialization, WdfDevice};
use ntwork::work_item;

#[work_item(wdf)]
fn receive(count: &AtomicU32) {
    let _ = count;
}

fn grow_pool(device: &WdfDevice, irql: &Passive<'_>) {
    let Ok(item) = receive::create(device, AtomicU32::new(0), Serialization::None, irql) else {
        return;
    };
    item.enqueue_and_leave(irql);
    item.flush(irql);
}

fn main() {
    let _ = grow_pool;
}
