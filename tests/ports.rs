//! C patterns from real drivers, ported as a new user would write them, run on
//! the threaded host.

use ntwork::irql::Passive;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use ntwork::{DeviceObject, WorkQueue, work_item};
use ntwork_host::Executive;

// ---- "Post to a worker and wait" -------------------------------------------
//
// A filter that must send a request at PASSIVE_LEVEL from a caller that may be
// above it: C queues a work item whose context is an argument block on the
// caller's stack with a KEVENT in it, waits on the event, and reads the status
// out of the block. ntwork contexts are moved to the worker, not borrowed from
// a stack (the routine must not outlive what it points to), so the result
// comes back through a channel the context owns.

/// What the request needs, and where its result goes.
struct Request {
    code: u32,
    input: Vec<u8>,
    done: mpsc::SyncSender<Result<usize, i32>>,
}

/// The device's "IOCTL" handler: the last request seen, for the test.
static LAST: Mutex<Option<(usize, u32)>> = Mutex::new(None);

const STATUS_INVALID_DEVICE_REQUEST: i32 = 0xC000_0010_u32 as i32;
const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009A_u32 as i32;

#[work_item(device)]
fn send_request(device: &DeviceObject, request: Request) {
    let status = if request.code == 0x22_2000 {
        *LAST.lock().unwrap() = Some((device.as_raw() as usize, request.code));
        Ok(request.input.len())
    } else {
        Err(STATUS_INVALID_DEVICE_REQUEST)
    };
    // The caller may have given up waiting: then nobody reads the status.
    let _ = request.done.send(status);
}

/// Sends `code` at PASSIVE_LEVEL on a system worker and waits for its status.
fn send_request_at_passive(device: &DeviceObject, code: u32, input: Vec<u8>) -> Result<usize, i32> {
    let (done, status) = mpsc::sync_channel(1);
    let request = Request { code, input, done };
    send_request::queue(device, request, WorkQueue::Delayed, &Passive::on_host())
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
    status
        .recv_timeout(Duration::from_secs(10))
        .expect("the routine reports its status")
}

#[test]
fn a_request_posted_to_a_worker_is_waited_for_and_returns_its_status() {
    let exec = Executive::new();
    let driver = exec.load_driver("filter.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let object = ntwork_suite::object(&device);

    assert_eq!(
        send_request_at_passive(object, 0x22_2000, vec![0; 12]),
        Ok(12)
    );
    assert_eq!(
        *LAST.lock().unwrap(),
        Some((device.as_raw() as usize, 0x22_2000)),
        "ran for this device"
    );
    assert_eq!(
        send_request_at_passive(object, 0x22_2004, Vec::new()),
        Err(STATUS_INVALID_DEVICE_REQUEST)
    );
    exec.wait_idle();
    assert_eq!(
        device.reference_count(),
        base,
        "the queue's references are gone"
    );
    assert_eq!(exec.io_work_items_outstanding(), 0, "each item was freed");
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

// ---- A routine that outlives its waiter -----------------------------------
//
// The same pattern when the caller stops waiting (a timeout, a cancelled
// IRP): in C the routine then writes into a stack frame that is gone. Here the
// context is the routine's own, so the late routine is harmless.

#[test]
fn a_caller_that_stops_waiting_leaves_the_routine_nothing_dangling() {
    let exec = Executive::manual();
    let driver = exec.load_driver("filter.sys");
    let device = driver.create_device();
    let object = ntwork_suite::object(&device);

    {
        let (done, status) = mpsc::sync_channel(1);
        send_request::queue(
            object,
            Request {
                // Not the code the first test checks `LAST` for.
                code: 0x22_2004,
                input: vec![1, 2, 3],
                done,
            },
            WorkQueue::Delayed,
            &Passive::on_host(),
        )
        .unwrap();
        // The waiter gives up before the routine runs, and its frame is gone.
        assert!(status.try_recv().is_err());
        drop(status);
    }
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(exec.bug_check(), None);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    driver.unload().unwrap();
}
