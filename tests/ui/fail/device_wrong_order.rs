use ntwork::{DeviceObject, work_item};

#[work_item]
fn flush(batch: Vec<u8>, device: &DeviceObject) {
    let _ = (batch, device);
}

fn main() {}
