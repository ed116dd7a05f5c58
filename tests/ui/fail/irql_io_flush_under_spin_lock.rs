//! Holding a spin lock is DISPATCH_LEVEL: the lock's proof cannot flush.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, ReusableIoWorkItem, SpinLock, work_item};

#[work_item(device)]
fn drain(device: &DeviceObject, pending: u32) {
    let _ = (device, pending);
}

struct Port {
    drain: ReusableIoWorkItem<drain>,
    pending: SpinLock<u32>,
}

fn stop(port: &Port, irql: &mut Passive<'_>) {
    port.pending.lock(irql, |pending, dispatch| {
        *pending = 0;
        port.drain.flush(dispatch);
    });
}

fn main() {
    let _ = stop;
}
