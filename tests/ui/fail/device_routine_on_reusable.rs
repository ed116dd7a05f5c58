//! A device-bound routine in a reusable Ex item, in a `static`.

use ntwork::{DeviceObject, ReusableExWorkItem, Rundown, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(device)]
fn tick(device: &DeviceObject, count: u32) {
    let _ = (device, count);
}

static TICK: ReusableExWorkItem<tick> = ReusableExWorkItem::new(&WORK, 0);

fn main() {
    let _ = &TICK;
}
