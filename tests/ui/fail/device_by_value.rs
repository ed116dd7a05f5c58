use ntwork::{DeviceObject, work_item};

#[work_item]
fn flush(device: DeviceObject, batch: Vec<u8>) {
    let _ = (batch, device);
}

fn main() {}
