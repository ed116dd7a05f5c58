#[work_item(device)]
fn flush_device(device: &DeviceObject, lines: Vec<String>) {
    let _ = (device, lines);
}
