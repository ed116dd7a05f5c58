//! A stated role is trusted, and the generated call checks the type: one
//! error at the user's parameter type.

use ntwork::work_item;

struct NotADevice;

#[work_item(device)]
fn wrong(device: &NotADevice, count: u32) {
    let _ = (device, count);
}

fn main() {}
