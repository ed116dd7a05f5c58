//! `&Device<Port>` first, no role: seen as the device parameter (one error at
//! its type), not as an Ex routine's context.
use ntwork::{Device, work_item};

struct Port;

#[work_item]
fn reset(device: &Device<Port>, attempts: u32) {
    let _ = (device, attempts);
}

fn main() {}
