//! A device routine taking ntwork's owner `&Device<Port>`: one error at the
//! type, naming `&DeviceObject` and `device.extension::<E>(irql)`.
use ntwork::{Device, work_item};

struct Port;

#[work_item(device)]
fn reset(device: &Device<Port>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
