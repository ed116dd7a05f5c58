#[work_item(crate = ::my_driver::rt)]
fn poll(device: &DeviceObject, count: u32, item: IoWorkItem<poll>) {
    if count > 0 {
        item.queue(count - 1, WorkQueue::Delayed);
    }
}
