use ntwork::{DeviceObject, work_item};

#[work_item(ex)]
fn flush(device: &DeviceObject, batch: Vec<u8>) {
    let _ = (batch, device);
}

fn main() {}
