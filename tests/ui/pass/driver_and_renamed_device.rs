//! The driver role, and a stated role trusted over the spelling of the object
//! type (`DeviceObject` imported under another name).

use ntwork::irql::Passive;
use ntwork::DeviceObject as Fdo;
use ntwork::irql::Dispatch;
use ntwork::{
    AllocError, DriverObject, IoRoutine, IoWorkItem, RunningIoWorkItem, WorkQueue, work_item,
};

#[work_item(driver)]
fn refresh(driver: &DriverObject, generation: u64) {
    let _ = (driver, generation);
}

#[work_item(driver)]
fn refresh_again(driver: &DriverObject, left: u32, item: IoWorkItem<refresh_again>) {
    if left > 0 {
        let _ = item.queue(left - 1, WorkQueue::Delayed, &Passive::on_host());
    }
    let _ = driver;
}

#[work_item(driver)]
fn refresh_lent(driver: &DriverObject, left: u32, item: RunningIoWorkItem<'_, refresh_lent>) {
    if left > 0 {
        item.queue(left - 1, WorkQueue::Delayed);
    }
    let _ = driver;
}

#[work_item(device)]
fn renamed(device: &Fdo, count: u32) {
    let _ = (device, count);
}

fn bound_to<R: IoRoutine<Object = O>, O>() {}

fn main() {
    bound_to::<refresh, DriverObject>();
    bound_to::<refresh_again, DriverObject>();
    bound_to::<refresh_lent, DriverObject>();
    bound_to::<renamed, ntwork::DeviceObject>();
    let _: fn(&DriverObject, u64, WorkQueue, &Dispatch<'static>) -> Result<(), AllocError<u64>> = refresh::queue;
    let _: fn(&DriverObject, &Dispatch<'static>) -> Result<IoWorkItem<refresh>, AllocError> = refresh::new;
    let _: fn(&Fdo, u32, WorkQueue, &Dispatch<'static>) -> Result<(), AllocError<u32>> = renamed::queue;
}
