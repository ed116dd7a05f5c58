// The Ex path references nothing: a device borrowed for a routine's call
// cannot ride in an Ex context (it would outlive the call that lent it).
use ntwork::irql::Passive;
use ntwork::{DeviceObject, Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

struct Request {
    device: &'static DeviceObject,
    id: u32,
}

#[work_item]
fn log_request(request: Request) {
    let _ = (request.device, request.id);
}

#[work_item(device)]
fn on_request(device: &DeviceObject, id: u32) {
    let _ = log_request::queue(&WORK, Request { device, id }, WorkQueue::Delayed, &Passive::on_host());
}

fn main() {}
