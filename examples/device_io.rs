//! A simulated device whose interrupt-side code (a DPC, at DISPATCH_LEVEL)
//! queues device-bound work; the driver unloads cleanly only after that work
//! has run, because each queued item holds a reference on the device object.
//!
//! ```text
//! cargo run --example device_io
//! ```

use ntwork::irql::{Dispatch, Passive};
use ntwork::{DeviceObject, RunningIoWorkItem, SpinLock, WorkQueue, work_item};
use ntwork_host as host;
use ntwork_host::Executive;

/// What the interrupt captured.
struct Packet {
    sequence: u32,
    bytes: Vec<u8>,
}

/// The sequence numbers processed, as a driver keeps shared state: under a
/// spin lock (a routine may run on any worker).
static RECEIVED: SpinLock<Vec<u32>> = SpinLock::new(Vec::new());

/// Processes one packet at PASSIVE_LEVEL; the device stays referenced until it returns.
#[work_item(device)]
fn process_packet(device: &DeviceObject, packet: Packet, irql: &mut Passive<'_>) {
    println!(
        "process_packet seq {} ({} bytes) for device {:p} on {}",
        packet.sequence,
        packet.bytes.len(),
        device.as_raw(),
        std::thread::current().name().unwrap_or("?"),
    );
    RECEIVED.lock(irql, |received, _| received.push(packet.sequence));
}

/// Retries a reset a few times by requeueing its own item (IoQueueWorkItemEx).
/// The item is lent for the call (`IoWorkItem<reset_device>` would keep it).
#[work_item(device)]
fn reset_device(
    device: &DeviceObject,
    attempts_left: u32,
    item: RunningIoWorkItem<'_, reset_device>,
) {
    println!(
        "reset_device attempt, {attempts_left} left, device {:p}",
        device.as_raw()
    );
    if attempts_left > 0 {
        item.queue(attempts_left - 1, WorkQueue::Delayed);
    }
    // Otherwise `item` drops here: IoFreeWorkItem, inside its own routine.
}

/// The "interrupt": a DPC, at DISPATCH_LEVEL, queues work for each packet. A
/// real DPC routine makes its proof on entry: `unsafe { Dispatch::assume() }`.
fn dpc(object: &DeviceObject, irql: &Dispatch<'_>) {
    for sequence in 0..4 {
        let packet = Packet {
            sequence,
            bytes: vec![0; 64 * (sequence as usize + 1)],
        };
        process_packet::queue(object, packet, WorkQueue::Delayed, irql)
            .expect("IoAllocateWorkItem");
    }
    reset_device::queue(object, 2, WorkQueue::Delayed, irql).expect("IoAllocateWorkItem");
}

fn main() {
    let exec = Executive::new();
    let driver = exec.load_driver("sample.sys");
    let device = driver.create_device();
    let object = DeviceObject::of(&device);
    println!(
        "device {:p} loaded, reference count {}",
        device.as_raw(),
        device.reference_count()
    );

    host::at_dispatch_level(|| dpc(object, &Dispatch::on_host()));
    println!(
        "queued; device reference count now {}",
        device.reference_count()
    );

    exec.wait_idle();
    println!(
        "idle; device reference count back to {}",
        device.reference_count()
    );
    let mut received = RECEIVED.lock(&mut Passive::on_host(), |received, _| received.clone());
    received.sort();
    assert_eq!(received, [0, 1, 2, 3]);

    match driver.unload() {
        Ok(()) => println!("driver unloaded cleanly"),
        Err(check) => {
            eprintln!("unload: {check}");
            std::process::exit(1);
        }
    }
}
