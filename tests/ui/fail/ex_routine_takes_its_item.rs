use ntwork::{RunningIoWorkItem, work_item};

// Ported from an IoQueueWorkItemEx routine, without its device.
#[work_item]
fn retry(attempts: u32, item: RunningIoWorkItem<'_, retry>) {
    let _ = (attempts, item);
}

fn main() {}
