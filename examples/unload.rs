//! DriverUnload done right, with work in flight on all three paths:
//!
//! * Ex work counted in a `Rundown` that ntwork's DriverUnload waits for
//!   before the driver's own unload code runs;
//! * device-bound Io work, which references its device, so the driver image
//!   stays mapped until the routine has returned, even after DriverUnload;
//! * driver-bound Io work (`#[work_item(driver)]`) for work that belongs to
//!   no device but must not outlive the image.
//!
//! ```text
//! cargo run --example unload
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::irql::Passive;
use ntwork::{DeviceObject, DriverObject, Rundown, WorkQueue, work_item};
use ntwork_host::Executive;

/// Counts the driver's Ex work; ntwork's DriverUnload waits for it.
static WORK: Rundown = Rundown::new();

/// Ex routines that had run when the driver's own unload code started.
static EX_DONE_AT_UNLOAD: AtomicUsize = AtomicUsize::new(usize::MAX);
static EX_DONE: AtomicUsize = AtomicUsize::new(0);

#[work_item]
fn write_statistics(counters: Arc<AtomicUsize>) {
    std::thread::sleep(std::time::Duration::from_millis(5));
    counters.fetch_add(1, Ordering::SeqCst);
    EX_DONE.fetch_add(1, Ordering::SeqCst);
}

/// The driver's own unload code. ntwork's DriverUnload has waited for every
/// Ex item counted in `WORK` already (nothing keeps the image mapped for
/// them); Io work keeps its objects, and so the image, by itself.
fn driver_unload(_driver: &DriverObject, _irql: &mut Passive<'_>) {
    EX_DONE_AT_UNLOAD.store(EX_DONE.load(Ordering::SeqCst), Ordering::SeqCst);
}

#[work_item(device)]
fn finish_request(device: &DeviceObject, done: Arc<AtomicUsize>) {
    let _ = device;
    std::thread::sleep(std::time::Duration::from_millis(20));
    done.fetch_add(1, Ordering::SeqCst);
}

#[work_item(driver)]
fn release_cache(driver: &DriverObject, done: Arc<AtomicUsize>) {
    let _ = driver;
    std::thread::sleep(std::time::Duration::from_millis(20));
    done.fetch_add(1, Ordering::SeqCst);
}

fn main() {
    let exec = Executive::new();
    let loaded = exec.load_driver("sample.sys");
    let fdo = loaded.create_device();
    let done = Arc::new(AtomicUsize::new(0));
    {
        // The driver's own objects, borrowed from the host's handles.
        let (driver, device) = (DriverObject::of(&loaded), DeviceObject::of(&fdo));
        // DriverEntry, at PASSIVE_LEVEL (a real one: `unsafe { Passive::assume() }`):
        // ntwork's DriverUnload, and the rundown it waits for.
        let irql = Passive::on_host();
        driver
            .set_unload(driver_unload, &irql)
            .expect("DriverEntry");
        WORK.open(driver, &irql).expect("DriverEntry");
        for _ in 0..4 {
            write_statistics::queue(&WORK, Arc::clone(&done), WorkQueue::Delayed, &irql)
                .expect("pool allocation");
        }
        finish_request::queue(device, Arc::clone(&done), WorkQueue::Delayed, &irql)
            .expect("IoAllocateWorkItem");
        release_cache::queue(driver, Arc::clone(&done), WorkQueue::Delayed, &irql)
            .expect("IoAllocateWorkItem");
    }

    // The I/O manager calls ntwork's DriverUnload: it waits for the Ex work,
    // runs `driver_unload`, then the DriverUnload set before it (the host's
    // default, which deletes the device).
    loaded.unload().expect("no bug check at unload");
    println!(
        "DriverUnload: all {} Ex items had run when the driver's unload code started",
        EX_DONE_AT_UNLOAD.load(Ordering::SeqCst)
    );
    assert_eq!(EX_DONE_AT_UNLOAD.load(Ordering::SeqCst), 4);
    println!(
        "DriverUnload returned; image still mapped: {} (Io work holds its objects)",
        exec.is_image_mapped("sample.sys")
    );

    exec.wait_idle();
    println!(
        "all {} routines ran; image mapped now: {}; bug check: {:?}",
        done.load(Ordering::SeqCst),
        exec.is_image_mapped("sample.sys"),
        exec.bug_check()
    );
    assert_eq!(done.load(Ordering::SeqCst), 6);
    assert!(!exec.is_image_mapped("sample.sys"));
    assert_eq!(exec.bug_check(), None);
}
