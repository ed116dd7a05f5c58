#[work_item(device)]
fn poll(device: &DeviceObject, count: u32, item: RunningIoWorkItem<'_, poll>) {
    if count > 0 {
        item.queue(count - 1, WorkQueue::Delayed);
    }
}
