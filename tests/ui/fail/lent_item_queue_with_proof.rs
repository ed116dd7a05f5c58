//! The lent item's `queue` given a proof, as the other queue calls are: it
//! takes none (it runs in the routine).
use ntwork::irql::Passive;
use ntwork::{DeviceObject, RunningIoWorkItem, WorkQueue, work_item};

#[work_item(device)]
fn reset(device: &DeviceObject, attempts: u32, item: RunningIoWorkItem<'_, reset>, irql: &Passive<'_>) {
    let _ = device;
    if attempts > 0 {
        item.queue(attempts - 1, WorkQueue::Delayed, irql);
    }
}

fn main() {}
