// The right way to carry a device past the call that lent it: a counted
// reference (`ObfReferenceObject`), which keeps the device object alive
// however long the Ex work waits.
use ntwork::irql::Passive;
use ntwork::{ARef, DeviceObject, Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

struct Request {
    device: ARef<DeviceObject>,
    id: u32,
}

#[work_item]
fn log_request(request: Request) {
    let _ = (request.device.as_raw(), request.id);
}

#[work_item(device)]
fn on_request(device: &DeviceObject, id: u32) {
    let request = Request {
        device: ARef::from(device),
        id,
    };
    let _ = log_request::queue(&WORK, request, WorkQueue::Delayed, &Passive::on_host());
}

fn main() {}
