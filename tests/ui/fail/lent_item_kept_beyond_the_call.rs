use std::cell::RefCell;

use ntwork::{DeviceObject, RunningIoWorkItem, work_item};

thread_local! {
    static PARKED: RefCell<Option<RunningIoWorkItem<'static, park>>> = const { RefCell::new(None) };
}

// The lent item is the call's: keeping it needs `item.keep()` (an IoWorkItem).
#[work_item(device)]
fn park(_device: &DeviceObject, item: RunningIoWorkItem<'_, park>) {
    PARKED.with(|parked| *parked.borrow_mut() = Some(item));
}

fn main() {}
