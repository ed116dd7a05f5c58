//! `flush` waits for the routine, so it needs PASSIVE_LEVEL; a DPC holds a
//! DISPATCH_LEVEL proof. The DPC may queue the item, never wait for it.

use std::sync::atomic::AtomicU32;

use ntwork::irql::Dispatch;
use ntwork::{ReusableExWorkItem, Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item]
fn rescan(changes: &AtomicU32) {
    let _ = changes;
}

static RESCAN: ReusableExWorkItem<rescan> = ReusableExWorkItem::new(&WORK, AtomicU32::new(0));

fn dpc(irql: &Dispatch<'_>) {
    let _ = RESCAN.queue_static(WorkQueue::Delayed, irql);
    RESCAN.flush(irql);
}

fn main() {
    let _ = dpc;
}
