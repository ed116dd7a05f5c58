//! An Ex routine queued with a device, as the Io ones are: rustc's one E0061
//! at the call (the generated signature has no place for the device); its
//! 'did you mean' passes the device as the IRQL proof. Listed in
//! docs/checks.md as rustc's, not the attribute's.
use ntwork::irql::Dispatch;
use ntwork::{DeviceObject, Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(rundown = WORK)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn dpc(device: &DeviceObject, irql: &Dispatch<'_>) {
    let _ = flush::queue(device, vec![1], WorkQueue::Delayed, irql);
}

fn main() {
    let _ = dpc;
}
