#[work_item]
fn retry(device: &DeviceObject, attempts: u32, item: RunningIoWorkItem<'_, retry>, irql: &Passive<'_>) {
    if attempts > 0 {
        item.queue(attempts - 1, WorkQueue::Delayed);
    }
    flush_hardware(device, irql);
}
