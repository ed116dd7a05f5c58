//! A KMDF-shaped driver on the host: the device's "interrupt" (a DPC, at
//! DISPATCH_LEVEL) pushes samples into the device context and enqueues a
//! `WDFWORKITEM`; its callback drains everything pending at PASSIVE_LEVEL.
//! D0Exit flushes the item; removal deletes the device, which disposes the
//! item (dropping its context) before the device's own cleanup.
//!
//! ```text
//! cargo run --example kmdf_device
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::ffi::wdf as w;
use ntwork::irql::{Dispatch, Passive};
use ntwork::wdf::{Enqueued, Serialization, WdfDevice, WdfWorkItemRef};
use ntwork::{SpinLock, work_item};
use ntwork_host::wdf::WdfDeviceConfig;
use ntwork_host::{Executive, at_dispatch_level};

/// The device context: samples the DPC collected, and what the callback did.
struct DeviceContext {
    samples: SpinLock<Vec<u32>>,
    drained: AtomicUsize,
    callbacks: AtomicUsize,
}

/// EvtWorkItem: drains every pending sample (an enqueue while queued is
/// coalesced, so one callback may serve many interrupts).
#[work_item(wdf)]
fn drain_samples(context: &DeviceContext, irql: &mut Passive<'_>) {
    let batch = context
        .samples
        .lock(irql, |samples, _| std::mem::take(samples));
    context.drained.fetch_add(batch.len(), Ordering::SeqCst);
    context.callbacks.fetch_add(1, Ordering::SeqCst);
}

static CLEANED: AtomicUsize = AtomicUsize::new(0);

/// The device's EvtCleanupCallback.
unsafe extern "system" fn device_cleanup(_: w::WDFOBJECT) {
    CLEANED.fetch_add(1, Ordering::SeqCst);
}

/// The interrupt's EvtInterruptDpc: at DISPATCH_LEVEL (a real one makes its
/// proof on entry, `unsafe { Dispatch::assume() }`), with the device the
/// framework passes, find the item the device keeps, record and enqueue.
fn dpc(device: &WdfDevice, sample: u32, irql: &mut Dispatch<'_>) -> Enqueued {
    let item = WdfWorkItemRef::<drain_samples>::kept(device).expect("kept in EvtDeviceAdd");
    item.context()
        .samples
        .lock(irql, |samples, _| samples.push(sample));
    item.enqueue(irql)
}

fn main() {
    let exec = Executive::new();
    let driver = exec.load_driver("kmdf_sample.sys");
    // EvtDriverDeviceAdd: WdfDeviceCreate.
    let host_device = driver.create_wdf_device(WdfDeviceConfig {
        cleanup: Some(device_cleanup),
        ..WdfDeviceConfig::default()
    });
    let device = WdfDevice::of(&host_device);
    // EvtDriverDeviceAdd and EvtDeviceD0Exit run at PASSIVE_LEVEL (a real
    // callback: `unsafe { Passive::assume() }`).
    let irql = Passive::on_host();
    // The item is created under the device and kept in the device's context
    // space, as C keeps the WDFWORKITEM in its device context.
    drain_samples::create(
        device,
        DeviceContext {
            samples: SpinLock::new(Vec::new()),
            drained: AtomicUsize::new(0),
            callbacks: AtomicUsize::new(0),
        },
        Serialization::None,
        &irql,
    )
    .expect("WdfWorkItemCreate")
    .keep_in_parent(&irql)
    .expect("WdfObjectAllocateContext");

    let mut coalesced = 0;
    for sample in 0..1000 {
        if at_dispatch_level(|| dpc(device, sample, &mut Dispatch::on_host()))
            == Enqueued::Coalesced
        {
            coalesced += 1;
        }
        if sample % 100 == 99 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    // EvtDeviceD0Exit: no callback may run past this point.
    let item = WdfWorkItemRef::<drain_samples>::kept(device).expect("kept");
    item.flush(&irql);
    let context = item.context();
    println!(
        "1000 interrupts -> {} callbacks ({coalesced} enqueues coalesced), {} samples drained",
        context.callbacks.load(Ordering::SeqCst),
        context.drained.load(Ordering::SeqCst),
    );
    assert_eq!(context.drained.load(Ordering::SeqCst), 1000);

    // Removal: the framework deletes the device, disposing the item first.
    host_device.delete();
    driver.unload().expect("clean unload");
    exec.wait_idle();
    println!(
        "device removed: its cleanup ran {} time(s), after the item's; image mapped: {}; bug check: {:?}",
        CLEANED.load(Ordering::SeqCst),
        exec.is_image_mapped("kmdf_sample.sys"),
        exec.bug_check()
    );
    assert_eq!(exec.bug_check(), None);
}
