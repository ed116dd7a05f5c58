//! The generated helpers run on the host executive: an owned, a borrowed and a
//! unit routine, through `queue`, `new` and a reusable item.

use ntwork::irql::Passive;
use std::sync::atomic::{AtomicU32, Ordering};

use ntwork::{DriverObject, QueueError, ReusableExWorkItem, Rundown, WorkQueue, work_item};

static RAN: AtomicU32 = AtomicU32::new(0);

#[work_item]
fn owned(batch: Vec<u8>) {
    assert_eq!(batch, b"hello");
    RAN.fetch_add(1, Ordering::SeqCst);
}

#[work_item]
fn borrowed(count: &AtomicU32) {
    count.fetch_add(1, Ordering::SeqCst);
}

#[work_item]
fn unit() {
    RAN.fetch_add(10, Ordering::SeqCst);
}

static UNLOAD: Rundown = Rundown::new();
static TICK: ReusableExWorkItem<borrowed> = ReusableExWorkItem::new(&UNLOAD, AtomicU32::new(0));

fn main() {
    let exec = ntwork_host::Executive::manual();
    let host_driver = exec.load_driver("run_on_host.sys");
    let driver = DriverObject::of(&host_driver);
    // Before DriverEntry opens it, the rundown counts nothing.
    assert!(matches!(
        unit::queue(&UNLOAD, WorkQueue::Critical, &Passive::on_host()),
        Err(QueueError::NotOpen(()))
    ));
    driver.set_unload(|_, _| {}, &Passive::on_host()).unwrap();
    UNLOAD.open(driver, &Passive::on_host()).unwrap();
    owned::queue(&UNLOAD, b"hello".to_vec(), WorkQueue::Delayed, &Passive::on_host()).unwrap();
    owned::new(b"hello".to_vec(), &Passive::on_host())
        .unwrap()
        .queue(&UNLOAD, WorkQueue::Normal, &Passive::on_host())
        .unwrap();
    unit::queue(&UNLOAD, WorkQueue::Critical, &Passive::on_host()).unwrap();
    TICK.queue_static(WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert_eq!(exec.run_until_idle(), 4);
    assert_eq!(RAN.load(Ordering::SeqCst), 12);
    assert_eq!(TICK.context().load(Ordering::SeqCst), 1);
    host_driver.unload().unwrap();
    assert!(matches!(
        owned::queue(&UNLOAD, Vec::new(), WorkQueue::Delayed, &Passive::on_host()),
        Err(QueueError::Unloading(_))
    ));
}
