//! WdfWorkItemFlush waits (PASSIVE_LEVEL); an EvtInterruptDpc runs at
//! DISPATCH_LEVEL.

use std::sync::atomic::AtomicU32;

use ntwork::irql::Dispatch;
use ntwork::wdf::{WdfDevice, WdfWorkItemRef};
use ntwork::work_item;

#[work_item(wdf)]
fn drain(pending: &AtomicU32) {
    let _ = pending;
}

fn evt_interrupt_dpc(device: &WdfDevice, irql: &Dispatch<'_>) {
    if let Some(item) = WdfWorkItemRef::<drain>::kept(device) {
        item.flush(irql);
    }
}

fn main() {
    let _ = evt_interrupt_dpc;
}
