use ntwork::irql::Passive;
use ntwork::{DeviceObject, ReusableIoWorkItem, RunningIoWorkItem, WorkQueue, work_item};

#[work_item(device)]
fn rescan(_device: &DeviceObject, pass: u32, item: RunningIoWorkItem<'_, rescan>) {
    if pass < 3 {
        item.queue(pass + 1, WorkQueue::Delayed);
    }
}

// AddDevice keeps one item in the device extension for the routine above.
fn add_device(device: &DeviceObject) {
    let _ = ReusableIoWorkItem::<rescan>::new(device, &Passive::on_host());
}

fn main() {
    let _ = add_device;
}
