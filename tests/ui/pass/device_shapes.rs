//! Every device shape: with and without a context, with its item back.

use ntwork::irql::Passive;
use ntwork::irql::Dispatch;
use ntwork::{
    AllocError, DeviceObject, IoRoutine, IoWorkItem, RunningIoWorkItem, WorkQueue, ffi, work_item,
};


#[work_item]
fn flush(device: &DeviceObject, lines: Vec<String>) {
    let _ = (device, lines);
}

#[work_item(device)]
fn stated(device: &ntwork::DeviceObject, count: u32) {
    let _ = (device, count);
}

#[work_item(device)]
fn requeue(device: &DeviceObject, count: u32, item: IoWorkItem<requeue>) {
    if count > 0 {
        item.queue(count - 1, WorkQueue::Delayed, &Passive::on_host());
    }
    let _ = device;
}

/// The item lent for the call; the elided lifetime is accepted too.
#[work_item(device)]
fn lent(device: &DeviceObject, count: u32, item: RunningIoWorkItem<'_, lent>) {
    if count > 0 {
        item.queue(count - 1, WorkQueue::Delayed);
    }
    let _ = device;
}

#[work_item]
fn lent_elided(device: &DeviceObject, item: RunningIoWorkItem<lent_elided>) {
    let _: IoWorkItem<lent_elided> = item.keep();
    let _ = device;
}

#[work_item]
fn no_context(device: &DeviceObject) {
    let _ = device;
}

#[work_item]
fn item_only(device: &DeviceObject, item: IoWorkItem<item_only>) {
    drop(item);
    let _ = device;
}

fn assert_io<R: IoRoutine>() {}

fn main() {
    assert_io::<flush>();
    assert_io::<stated>();
    assert_io::<requeue>();
    assert_io::<no_context>();
    assert_io::<item_only>();
    assert_io::<lent>();
    assert_io::<lent_elided>();
    let _: fn(&DeviceObject, u32, WorkQueue, &Dispatch<'static>) -> Result<(), AllocError<u32>> = lent::queue;
    let _: ffi::PIO_WORKITEM_ROUTINE = Some(flush::ROUTINE);
    let _: ffi::PIO_WORKITEM_ROUTINE = Some(no_context::ROUTINE);
    let _: ffi::PIO_WORKITEM_ROUTINE_EX = Some(const { ntwork::raw::io_routine_ex::<flush>() });
    let _: fn(&DeviceObject, &Dispatch<'static>) -> Result<IoWorkItem<flush>, AllocError> = flush::new;
    let _: fn(&DeviceObject, Vec<String>, WorkQueue, &Dispatch<'static>) -> Result<(), AllocError<Vec<String>>> =
        flush::queue;
    let _: fn(&DeviceObject, WorkQueue, &Dispatch<'static>) -> Result<(), AllocError> = no_context::queue;
    let _: fn(&DeviceObject, u32, WorkQueue, &Dispatch<'static>) -> Result<(), AllocError<u32>> = requeue::queue;
}
