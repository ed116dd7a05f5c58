//! KNOWN BAD: `&Device<Port>` first, no role: the Ex shape's error, at the
//! second parameter, not naming `&DeviceObject` for the first.
use ntwork::{Device, work_item};

struct Port;

#[work_item]
fn reset(device: &Device<Port>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
