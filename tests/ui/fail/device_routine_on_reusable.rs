use ntwork::{DeviceObject, work_item};

#[work_item(device)]
fn flush(device: &DeviceObject, batch: Vec<u8>) {
    let _ = (device, batch);
}

fn take(_item: &ntwork::ReusableExWorkItem<flush>) {}

fn main() {
    let _ = take;
}
