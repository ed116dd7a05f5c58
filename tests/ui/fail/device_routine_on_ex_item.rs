//! A device-bound routine kept in an Ex item of a device extension: the
//! item's type names it, and making the item is the one error.

use ntwork::irql::Passive;
use ntwork::{DeviceObject, ExWorkItem, work_item};

#[work_item(device)]
fn flush(device: &DeviceObject, batch: Vec<u8>) {
    let _ = (device, batch);
}

struct Extension {
    retry: ExWorkItem<flush>,
}

fn start() -> Extension {
    Extension {
        retry: ExWorkItem::new(vec![1, 2, 3], &Passive::on_host()).unwrap(),
    }
}

fn main() {
    let _ = start;
}
