//! One error (the return type): the stand-in keeps the context type the user
//! wrote, so the item's queue call, which takes `Routine::Context`, adds
//! none (it was `()`: an E0308).

use ntwork::irql::Passive;
use ntwork::{DeviceObject, IoWorkItem, WorkQueue, work_item};

#[work_item]
fn reset(device: &DeviceObject, attempts: u32) -> u32 {
    let _ = device;
    attempts
}

fn on_error(device: &DeviceObject) {
    let _ = IoWorkItem::<reset>::new(device, &Passive::on_host()).map(|item| item.queue(3, WorkQueue::Delayed, &Passive::on_host()));
}

fn main() {
    let _ = on_error;
}
