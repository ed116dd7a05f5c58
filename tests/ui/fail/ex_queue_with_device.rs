//! KNOWN BAD (suggestion): an Ex routine queued with a device, as the Io ones
//! are: E0061 whose 'did you mean' passes the device as the IRQL proof.
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
