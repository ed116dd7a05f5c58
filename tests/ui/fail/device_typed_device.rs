//! KNOWN BAD: a device routine taking the typed `&Device<Port>`; E0308 whose
//! primary span is the attribute, not the parameter's type.
use ntwork::{Device, work_item};

struct Port;

#[work_item(device)]
fn reset(device: &Device<Port>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
