use ntwork::{DeviceObject, work_item};

#[work_item(device)]
fn flush(device: &mut DeviceObject, batch: Vec<u8>) {
    let _ = (batch, device);
}

fn main() {}
