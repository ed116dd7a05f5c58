use ntwork::{DeviceObject, work_item};

#[work_item(driver)]
fn confused(device: &DeviceObject, count: u32) {
    let _ = (device, count);
}

fn main() {}
