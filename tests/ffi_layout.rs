//! `ntwork::ffi` against the `windows-sys` crate's `Wdk` bindings: every size,
//! field offset and constant. (windows-sys types routine pointers without
//! parameters, so only their sizes are compared.)

use std::mem::{align_of, offset_of, size_of};

use ntwork::ffi;
use windows_sys::Wdk::Foundation as wf;
use windows_sys::Wdk::System::SystemServices as ws;
use windows_sys::Win32::System::Kernel as wk;

#[test]
fn list_entry_matches() {
    assert_eq!(size_of::<ffi::LIST_ENTRY>(), size_of::<wk::LIST_ENTRY>());
    assert_eq!(align_of::<ffi::LIST_ENTRY>(), align_of::<wk::LIST_ENTRY>());
    assert_eq!(
        offset_of!(ffi::LIST_ENTRY, Flink),
        offset_of!(wk::LIST_ENTRY, Flink)
    );
    assert_eq!(
        offset_of!(ffi::LIST_ENTRY, Blink),
        offset_of!(wk::LIST_ENTRY, Blink)
    );
}

#[test]
fn work_queue_item_matches() {
    assert_eq!(
        size_of::<ffi::WORK_QUEUE_ITEM>(),
        size_of::<wf::WORK_QUEUE_ITEM>()
    );
    assert_eq!(
        align_of::<ffi::WORK_QUEUE_ITEM>(),
        align_of::<wf::WORK_QUEUE_ITEM>()
    );
    assert_eq!(
        offset_of!(ffi::WORK_QUEUE_ITEM, List),
        offset_of!(wf::WORK_QUEUE_ITEM, List)
    );
    assert_eq!(
        offset_of!(ffi::WORK_QUEUE_ITEM, WorkerRoutine),
        offset_of!(wf::WORK_QUEUE_ITEM, WorkerRoutine)
    );
    assert_eq!(
        offset_of!(ffi::WORK_QUEUE_ITEM, Parameter),
        offset_of!(wf::WORK_QUEUE_ITEM, Parameter)
    );
}

#[test]
fn x64_layout_is_the_reference_layout() {
    // The figures of the reference sheet, for the 64-bit targets.
    if size_of::<usize>() == 8 {
        assert_eq!(size_of::<ffi::WORK_QUEUE_ITEM>(), 32);
        assert_eq!(offset_of!(ffi::WORK_QUEUE_ITEM, WorkerRoutine), 0x10);
        assert_eq!(offset_of!(ffi::WORK_QUEUE_ITEM, Parameter), 0x18);
    }
}

#[test]
fn routine_pointers_match() {
    assert_eq!(
        size_of::<ffi::PWORKER_THREAD_ROUTINE>(),
        size_of::<wf::PWORKER_THREAD_ROUTINE>()
    );
    assert_eq!(
        size_of::<ffi::PIO_WORKITEM_ROUTINE>(),
        size_of::<ws::PIO_WORKITEM_ROUTINE>()
    );
    assert_eq!(
        size_of::<ffi::PIO_WORKITEM_ROUTINE_EX>(),
        size_of::<ws::PIO_WORKITEM_ROUTINE_EX>()
    );
    assert_eq!(
        size_of::<ffi::PIO_WORKITEM>(),
        size_of::<wf::PIO_WORKITEM>()
    );
    // A nullable routine pointer is pointer-sized with NULL as `None`.
    assert_eq!(size_of::<ffi::PWORKER_THREAD_ROUTINE>(), size_of::<usize>());
}

#[test]
fn work_queue_type_matches() {
    assert_eq!(
        size_of::<ffi::WORK_QUEUE_TYPE>(),
        size_of::<ws::WORK_QUEUE_TYPE>()
    );
    let pairs = [
        (ffi::CriticalWorkQueue, ws::CriticalWorkQueue),
        (ffi::DelayedWorkQueue, ws::DelayedWorkQueue),
        (ffi::HyperCriticalWorkQueue, ws::HyperCriticalWorkQueue),
        (ffi::NormalWorkQueue, ws::NormalWorkQueue),
        (ffi::BackgroundWorkQueue, ws::BackgroundWorkQueue),
        (ffi::RealTimeWorkQueue, ws::RealTimeWorkQueue),
        (ffi::SuperCriticalWorkQueue, ws::SuperCriticalWorkQueue),
        (ffi::MaximumWorkQueue, ws::MaximumWorkQueue),
        (ffi::CustomPriorityWorkQueue, ws::CustomPriorityWorkQueue),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn safe_queue_values_match_the_kernel() {
    use ntwork::WorkQueue;
    assert_eq!(WorkQueue::Critical.as_raw(), ws::CriticalWorkQueue);
    assert_eq!(WorkQueue::Delayed.as_raw(), ws::DelayedWorkQueue);
    assert_eq!(WorkQueue::Normal.as_raw(), ws::NormalWorkQueue);
    assert_eq!(WorkQueue::Background.as_raw(), ws::BackgroundWorkQueue);
    assert_eq!(WorkQueue::RealTime.as_raw(), ws::RealTimeWorkQueue);
    assert_eq!(
        WorkQueue::SuperCritical.as_raw(),
        ws::SuperCriticalWorkQueue
    );
    assert_eq!(
        WorkQueue::custom_priority(31).unwrap().as_raw(),
        ws::CustomPriorityWorkQueue + 31
    );
}

#[test]
fn safe_queue_round_trips_and_rejects_what_the_kernel_rejects() {
    use ntwork::WorkQueue;
    for raw in -2..80 {
        let accepted = matches!(raw, 0 | 1 | 3..=6 | 32..=63);
        match WorkQueue::from_raw(raw) {
            Some(q) => {
                assert!(accepted, "{raw} accepted");
                assert_eq!(q.as_raw(), raw);
            }
            None => assert!(!accepted, "{raw} rejected"),
        }
    }
    assert!(WorkQueue::custom_priority(32).is_none());
}

#[test]
fn ex_initialize_work_item_makes_the_three_stores() {
    unsafe extern "system" fn routine(_: *mut core::ffi::c_void) {}
    let sentinel = 0x5a5a_usize as *mut ffi::LIST_ENTRY;
    let mut item = ffi::WORK_QUEUE_ITEM::new();
    item.List = ffi::LIST_ENTRY {
        Flink: sentinel,
        Blink: sentinel,
    };
    let parameter = 0x1234_usize as *mut core::ffi::c_void;
    // SAFETY: `item` is a live local, not queued.
    unsafe { ffi::ExInitializeWorkItem(&mut item, Some(routine), parameter) };
    assert!(item.List.Flink.is_null());
    assert_eq!(item.List.Blink, sentinel, "Blink is never written");
    assert_eq!(
        item.WorkerRoutine.map(|f| f as *const ()),
        Some(routine as *const ())
    );
    assert_eq!(item.Parameter, parameter);
}

/// Every field ntwork declares of `DRIVER_OBJECT` at windows-sys's offset.
#[test]
fn driver_object_matches() {
    macro_rules! same_offsets {
        ($($field:ident)*) => {$(
            assert_eq!(
                offset_of!(ffi::DRIVER_OBJECT, $field),
                offset_of!(wf::DRIVER_OBJECT, $field),
                stringify!($field)
            );
        )*};
    }
    assert_eq!(
        size_of::<ffi::DRIVER_OBJECT>(),
        size_of::<wf::DRIVER_OBJECT>()
    );
    same_offsets!(Type Size DeviceObject Flags DriverStart DriverSize DriverSection
        DriverExtension DriverName HardwareDatabase FastIoDispatch DriverInit
        DriverStartIo DriverUnload MajorFunction);
    if size_of::<usize>() == 8 {
        assert_eq!(offset_of!(ffi::DRIVER_OBJECT, DriverUnload), 0x68);
    }
}

/// `DEVICE_OBJECT` is declared up to `StackSize`; those fields sit where
/// windows-sys has them.
#[test]
fn device_object_prefix_matches() {
    macro_rules! same_offsets {
        ($($field:ident)*) => {$(
            assert_eq!(
                offset_of!(ffi::DEVICE_OBJECT, $field),
                offset_of!(wf::DEVICE_OBJECT, $field),
                stringify!($field)
            );
        )*};
    }
    same_offsets!(Type Size ReferenceCount DriverObject NextDevice AttachedDevice
        CurrentIrp Timer Flags Characteristics Vpb DeviceExtension DeviceType StackSize);
    assert!(size_of::<ffi::DEVICE_OBJECT>() <= size_of::<wf::DEVICE_OBJECT>());
    if size_of::<usize>() == 8 {
        assert_eq!(offset_of!(ffi::DEVICE_OBJECT, DeviceExtension), 0x40);
    }
}
