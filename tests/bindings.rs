//! Generated routines fit the routine pointer types of the bindings driver
//! authors use, with no transmute and no cast in user code: bindgen's shapes
//! (what wdk-sys generates: `extern "C"` on x86_64 and aarch64) and
//! windows-sys's real types (`extern "system"`, parameterless).

use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::{DeviceObject, work_item};
use ntwork_host::Executive;

static RAN: AtomicUsize = AtomicUsize::new(0);

#[work_item]
fn count(by: usize) {
    RAN.fetch_add(by, Ordering::SeqCst);
}

#[work_item(device)]
fn on_device(device: &DeviceObject, by: usize) {
    let _ = device;
    RAN.fetch_add(by, Ordering::SeqCst);
}

/// The typedefs exactly as bindgen emits them for wdk-sys on x86_64 and
/// aarch64 (nominal pointee types of its own, `extern "C"` callbacks).
#[cfg(not(target_arch = "x86"))]
#[allow(
    non_camel_case_types,
    non_snake_case,
    dead_code,
    unreachable_pub,
    clippy::upper_case_acronyms
)]
mod bindgen_shapes {
    use core::ffi::c_void;

    pub type PVOID = *mut c_void;
    #[repr(C)]
    pub struct _DEVICE_OBJECT {
        _private: [u8; 0],
    }
    pub type PDEVICE_OBJECT = *mut _DEVICE_OBJECT;
    #[repr(C)]
    pub struct _IO_WORKITEM {
        _private: [u8; 0],
    }
    pub type PIO_WORKITEM = *mut _IO_WORKITEM;
    pub type PWORKER_THREAD_ROUTINE = Option<unsafe extern "C" fn(Parameter: PVOID)>;
    pub type PIO_WORKITEM_ROUTINE =
        Option<unsafe extern "C" fn(DeviceObject: PDEVICE_OBJECT, Context: PVOID)>;
    pub type PIO_WORKITEM_ROUTINE_EX =
        Option<unsafe extern "C" fn(IoObject: PVOID, Context: PVOID, IoWorkItem: PIO_WORKITEM)>;
    #[repr(C)]
    pub struct _LIST_ENTRY {
        pub Flink: *mut _LIST_ENTRY,
        pub Blink: *mut _LIST_ENTRY,
    }
    #[repr(C)]
    pub struct _WORK_QUEUE_ITEM {
        pub List: _LIST_ENTRY,
        pub WorkerRoutine: PWORKER_THREAD_ROUTINE,
        pub Parameter: PVOID,
    }
    pub type WORK_QUEUE_TYPE = i32;

    // Declared as wdk-sys declares the kernel's functions; on the host they
    // resolve to ntwork-host's definitions (one calling convention on x86_64).
    unsafe extern "C" {
        pub fn ExQueueWorkItem(WorkItem: *mut _WORK_QUEUE_ITEM, QueueType: WORK_QUEUE_TYPE);
        pub fn IoAllocateWorkItem(DeviceObject: PDEVICE_OBJECT) -> PIO_WORKITEM;
        pub fn IoQueueWorkItem(
            IoWorkItem: PIO_WORKITEM,
            WorkerRoutine: PIO_WORKITEM_ROUTINE,
            QueueType: WORK_QUEUE_TYPE,
            Context: PVOID,
        );
        pub fn IoQueueWorkItemEx(
            IoWorkItem: PIO_WORKITEM,
            WorkerRoutine: PIO_WORKITEM_ROUTINE_EX,
            QueueType: WORK_QUEUE_TYPE,
            Context: PVOID,
        );
        pub fn IoFreeWorkItem(IoWorkItem: PIO_WORKITEM);
    }
}

#[cfg(not(target_arch = "x86"))]
#[test]
fn generated_routines_run_through_bindgen_typed_kernel_calls() {
    use bindgen_shapes as wdk;
    let exec = Executive::manual();
    let driver = exec.load_driver("bindgen.sys");
    let device = driver.create_device();
    let before = RAN.load(Ordering::SeqCst);

    let mut item = wdk::_WORK_QUEUE_ITEM {
        List: wdk::_LIST_ENTRY {
            Flink: core::ptr::null_mut(),
            Blink: core::ptr::null_mut(),
        },
        WorkerRoutine: count::routine(),
        Parameter: ntwork::raw::into_parameter(1_usize).unwrap(),
    };
    let plain: wdk::PIO_WORKITEM_ROUTINE = on_device::routine();
    let extended: wdk::PIO_WORKITEM_ROUTINE_EX = on_device::routine();
    let raw_device = device.as_raw().cast::<wdk::_DEVICE_OBJECT>();
    // SAFETY: the item outlives the run; each context comes from
    // `into_parameter` with the routine's context type; the Io items come
    // from IoAllocateWorkItem (the extended routine frees its item, the plain
    // one is freed after it ran).
    unsafe {
        wdk::ExQueueWorkItem(&mut item, 1);
        let a = wdk::IoAllocateWorkItem(raw_device);
        wdk::IoQueueWorkItem(a, plain, 1, ntwork::raw::into_parameter(10_usize).unwrap());
        let b = wdk::IoAllocateWorkItem(raw_device);
        wdk::IoQueueWorkItemEx(
            b,
            extended,
            1,
            ntwork::raw::into_parameter(100_usize).unwrap(),
        );
        assert_eq!(exec.run_until_idle(), 3);
        wdk::IoFreeWorkItem(a);
    }
    assert_eq!(RAN.load(Ordering::SeqCst) - before, 111);
    assert_eq!(
        (
            exec.bug_check(),
            exec.pool_outstanding(),
            exec.io_work_items_outstanding()
        ),
        (None, 0, 0)
    );
}

#[test]
fn generated_routines_fit_windows_sys_types() {
    use windows_sys::Wdk::Foundation::PWORKER_THREAD_ROUTINE;
    use windows_sys::Wdk::System::SystemServices::{PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX};
    fn takes(_: PWORKER_THREAD_ROUTINE, _: PIO_WORKITEM_ROUTINE, _: PIO_WORKITEM_ROUTINE_EX) {}
    let ex: PWORKER_THREAD_ROUTINE = count::routine();
    takes(
        ex,
        ntwork::abi::windows_sys_io_routine::<on_device>(),
        ntwork::abi::windows_sys_io_routine_ex::<on_device>(),
    );
    // windows-sys's pointer is the routine's own address.
    let ours: ntwork::ffi::PWORKER_THREAD_ROUTINE = count::routine();
    assert_eq!(
        ex.map(|f| f as usize),
        ours.map(|f| f as usize),
        "the same trampoline, typed as windows-sys types it"
    );
    assert_eq!(
        ntwork::abi::windows_sys_io_routine_ex::<on_device>().map(|f| f as usize),
        Some(ntwork::raw::io_routine_ex::<on_device>() as usize)
    );
}
