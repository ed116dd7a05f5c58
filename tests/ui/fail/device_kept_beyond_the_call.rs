// A routine's `&DeviceObject` is lent for the call only: storing it is an
// error; `ARef::from(device)` is the way to keep the device.
use std::sync::Mutex;

use ntwork::{DeviceObject, work_item};

static STASH: Mutex<Option<&'static DeviceObject>> = Mutex::new(None);

#[work_item(device)]
fn remember(device: &DeviceObject, _unused: u32) {
    *STASH.lock().unwrap() = Some(device);
}

fn main() {}
