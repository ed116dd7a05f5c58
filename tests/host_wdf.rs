//! KMDF object lifetime on the host's framework table, through raw table
//! calls as a C driver makes them: KMDF's order of checks in
//! `WdfWorkItemCreate`, bug check 0x10D for NULL and wrong-type handles,
//! references, cleanup at dispose and destroy at the last reference (for
//! every context space), `WdfObjectDelete` inside the item's own callback,
//! enqueues around a delete, and flush on a count of running callbacks.
//! Sources: Windows-Driver-Frameworks `fxworkitem.cpp`, `fxworkitemapi.cpp`,
//! `fxobjectstatemachine.cpp`, `fxvalidatefunctions.cpp`, `handleapi.cpp`.

use core::ffi::{c_char, c_void};
use core::ptr::{null, null_mut};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ntwork::ffi::wdf::{self as w, WDFOBJECT, WDFWORKITEM};
use ntwork_host::wdf::{WdfDeviceConfig, WdfDeviceHandle, status};
use ntwork_host::{BugCheck, Executive, bugcheck};

std::thread_local! {
    /// What the callbacks of this thread's test saw, in order.
    static LOG: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn log(event: &'static str) {
    LOG.with(|l| l.borrow_mut().push(event));
}

fn take_log() -> Vec<&'static str> {
    LOG.with(|l| core::mem::take(&mut *l.borrow_mut()))
}

/// A context type info that is its own `UniqueType`, as
/// `WDF_DECLARE_CONTEXT_TYPE` emits.
struct TypeInfo(w::WDF_OBJECT_CONTEXT_TYPE_INFO);
// SAFETY: read-only after initialization; the pointers are to statics.
unsafe impl Sync for TypeInfo {}

macro_rules! context_type {
    ($name:ident, $size:expr) => {
        static $name: TypeInfo = TypeInfo(w::WDF_OBJECT_CONTEXT_TYPE_INFO {
            Size: size_of::<w::WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
            ContextName: c"context".as_ptr(),
            ContextSize: $size,
            UniqueType: &$name.0,
            EvtDriverGetUniqueContextType: None,
        });
    };
}

context_type!(ITEM_CONTEXT, 16);
context_type!(EXTRA_CONTEXT, 8);

unsafe extern "system" fn noop(_: WDFWORKITEM) {}

fn device(exec: &Executive) -> (ntwork_host::Driver, WdfDeviceHandle) {
    let driver = exec.load_driver("fx.sys");
    let device = driver.create_wdf_device(WdfDeviceConfig::default());
    (driver, device)
}

/// `WdfWorkItemCreate` with `callback`, parent `parent`, and the item
/// context's cleanup and destroy callbacks.
fn create(
    parent: WDFOBJECT,
    callback: w::PFN_WDF_WORKITEM,
    cleanup: w::PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    destroy: w::PFN_WDF_OBJECT_CONTEXT_DESTROY,
) -> (i32, WDFWORKITEM) {
    let mut config = w::WDF_WORKITEM_CONFIG::init(callback);
    config.AutomaticSerialization = 0;
    let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
    attributes.ParentObject = parent;
    attributes.ContextTypeInfo = &ITEM_CONTEXT.0;
    attributes.EvtCleanupCallback = cleanup;
    attributes.EvtDestroyCallback = destroy;
    let mut item: WDFWORKITEM = null_mut();
    // SAFETY: valid pointers; the host's table is bound.
    let status = unsafe { w::WdfWorkItemCreate(&mut config, &mut attributes, &mut item) };
    (status, item)
}

#[test]
fn work_item_create_above_dispatch_level_is_stopped_and_creates_nothing() {
    let exec = Executive::manual();
    let (_driver, device) = device(&exec);
    let dirql = ntwork::ffi::DISPATCH_LEVEL + 3;
    let old = ntwork_host::raise_irql(dirql);
    let (status, item) = create(device.as_raw().cast(), Some(noop), None, None);
    ntwork_host::lower_irql(old);
    assert!(
        item.is_null(),
        "no item above DISPATCH_LEVEL (status {status:#x})"
    );
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_ABOVE_DISPATCH);
    assert_eq!(stop.parameters[1], usize::from(dirql));
}

#[test]
fn work_item_create_checks_in_kmdfs_order() {
    let exec = Executive::manual();
    let (_driver, device) = device(&exec);
    let parent: WDFOBJECT = device.as_raw().cast();
    let attempt = |edit: &dyn Fn(&mut w::WDF_WORKITEM_CONFIG, &mut w::WDF_OBJECT_ATTRIBUTES)| {
        let mut config = w::WDF_WORKITEM_CONFIG::init(Some(noop));
        config.AutomaticSerialization = 0;
        let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
        attributes.ParentObject = parent;
        edit(&mut config, &mut attributes);
        let mut item: WDFWORKITEM = null_mut();
        // SAFETY: valid pointers; the host's table is bound.
        unsafe { w::WdfWorkItemCreate(&mut config, &mut attributes, &mut item) }
    };
    // The parent first.
    assert_eq!(
        attempt(&|c, a| {
            a.ParentObject = null_mut();
            c.EvtWorkItemFunc = None;
        }),
        w::STATUS_WDF_PARENT_NOT_SPECIFIED
    );
    // The attributes' size before the config's.
    assert_eq!(
        attempt(&|c, a| {
            a.Size = 8;
            c.Size = 8;
        }),
        w::STATUS_INFO_LENGTH_MISMATCH
    );
    // The config's size before the callback.
    assert_eq!(
        attempt(&|c, _| {
            c.Size = 8;
            c.EvtWorkItemFunc = None;
        }),
        w::STATUS_INFO_LENGTH_MISMATCH
    );
    // The callback before the attributes' fields.
    assert_eq!(
        attempt(&|c, a| {
            c.EvtWorkItemFunc = None;
            a.ExecutionLevel = w::WdfExecutionLevelPassive;
        }),
        w::STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        attempt(&|_, a| a.ContextSizeOverride = 8),
        w::STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
        "an override without a type"
    );
    assert_eq!(
        attempt(&|_, a| {
            a.ContextTypeInfo = &ITEM_CONTEXT.0;
            a.ContextSizeOverride = 4;
        }),
        w::STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
        "an override below the type's size"
    );
    assert_eq!(
        attempt(&|_, a| a.SynchronizationScope = w::WdfSynchronizationScopeDevice),
        status::STATUS_WDF_SYNCHRONIZATION_SCOPE_INVALID
    );
    assert_eq!(
        attempt(&|_, a| a.ExecutionLevel = w::WdfExecutionLevelPassive),
        status::STATUS_WDF_EXECUTION_LEVEL_INVALID
    );
    assert_eq!(
        attempt(&|_, a| a.SynchronizationScope = w::WdfSynchronizationScopeNone),
        0,
        "None is allowed"
    );
    assert_eq!(exec.bug_check(), None, "statuses, no stop");
}

#[test]
fn a_device_defaults_to_dispatch_level() {
    let exec = Executive::manual();
    let driver = exec.load_driver("dispatch.sys");
    let device = driver.create_wdf_device(WdfDeviceConfig {
        synchronized: true,
        ..WdfDeviceConfig::default()
    });
    let mut config = w::WDF_WORKITEM_CONFIG::init(Some(noop));
    let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
    attributes.ParentObject = device.as_raw().cast();
    let mut item: WDFWORKITEM = null_mut();
    // SAFETY: valid pointers; AutomaticSerialization TRUE (the INIT default).
    let status = unsafe { w::WdfWorkItemCreate(&mut config, &mut attributes, &mut item) };
    assert_eq!(status, w::STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL);
    assert!(item.is_null());
}

/// The driver's globals, parameter 4 of 0x10D.
fn globals() -> usize {
    // SAFETY: the host's globals pointer, set at load.
    unsafe { w::WdfDriverGlobals }.addr()
}

#[test]
fn null_and_wrong_type_handles_and_null_required_pointers_are_wdf_violation() {
    let run = |call: &dyn Fn(&WdfDeviceHandle)| {
        let exec = Executive::manual();
        let (_driver, device) = device(&exec);
        call(&device);
        (exec.expect_bug_check(), device.as_raw().addr())
    };
    let (stop, _) = run(&|_| {
        // SAFETY: the misuse under test (a NULL handle); the host checks it.
        unsafe { w::WdfWorkItemEnqueue(null_mut()) }
    });
    assert_eq!(
        stop,
        BugCheck::new(bugcheck::WDF_VIOLATION, [5, 0, 0x1025, globals()])
    );
    let (stop, device) = run(&|d| {
        // SAFETY: the misuse under test (a device handle); the host checks it.
        unsafe { w::WdfWorkItemEnqueue(d.as_raw().cast()) }
    });
    assert_eq!(
        stop,
        BugCheck::new(bugcheck::WDF_VIOLATION, [5, device, 0x1025, globals()]),
        "a device where a work item is expected"
    );
    let (stop, _) = run(&|_| {
        // SAFETY: the misuse under test (a NULL handle); the host checks it.
        unsafe { w::WdfObjectDelete(null_mut()) }
    });
    assert_eq!(
        stop,
        BugCheck::new(bugcheck::WDF_VIOLATION, [5, 0, 0x1000, globals()])
    );
    let (stop, _) = run(&|d| {
        let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
        attributes.ParentObject = d.as_raw().cast();
        let mut item = null_mut();
        // SAFETY: the misuse under test (NULL Config); the host checks it.
        unsafe { w::WdfWorkItemCreate(null_mut(), &mut attributes, &mut item) };
    });
    assert_eq!(
        stop.parameters[..2],
        [4, 0],
        "Config NULL: WDF_REQUIRED_PARAMETER_IS_NULL"
    );
    assert_eq!(stop.parameters[3], globals());
    let (stop, _) = run(&|d| {
        let mut config = w::WDF_WORKITEM_CONFIG::init(Some(noop));
        let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
        attributes.ParentObject = d.as_raw().cast();
        // SAFETY: the misuse under test (NULL out pointer); the host checks it.
        unsafe { w::WdfWorkItemCreate(&mut config, &mut attributes, null_mut()) };
    });
    assert_eq!(
        (stop.code, stop.parameters[0]),
        (bugcheck::WDF_VIOLATION, 4)
    );
    let (stop, _) = run(&|_| {
        // SAFETY: the misuse under test (a NULL handle); the host checks it.
        unsafe { w::WdfObjectReferenceActual(null_mut(), null_mut(), 0, null::<c_char>()) }
    });
    assert_eq!(
        (stop.code, stop.parameters[0]),
        (bugcheck::WDF_VIOLATION, 4)
    );
    assert!(!stop.is_host_diagnostic(), "KMDF's own bug check");
}

unsafe extern "system" fn log_cleanup(_: WDFOBJECT) {
    log("cleanup");
}

unsafe extern "system" fn log_destroy(object: WDFOBJECT) {
    // SAFETY: the context space is alive until the destroy callbacks returned.
    let context = unsafe { w::WdfObjectGetTypedContextWorker(object, &ITEM_CONTEXT.0) };
    // SAFETY: 16 bytes of the item's context.
    let first = unsafe { context.cast::<u8>().read() };
    log(if first == 0x5A {
        "destroy (context intact)"
    } else {
        "destroy"
    });
}

unsafe extern "system" fn log_extra_cleanup(_: WDFOBJECT) {
    log("extra cleanup");
}

unsafe extern "system" fn log_extra_destroy(_: WDFOBJECT) {
    log("extra destroy");
}

/// Reference and dereference; EvtCleanupCallback at dispose, then
/// EvtDestroyCallback at the last reference with the context still there;
/// a context added with WdfObjectAllocateContext keeps its own callbacks,
/// called after the first context's.
#[test]
fn destroy_runs_at_the_last_reference_after_cleanup_for_every_context() {
    let exec = Executive::manual();
    let (_driver, device) = device(&exec);
    let (status, item) = create(
        device.as_raw().cast(),
        Some(noop),
        Some(log_cleanup),
        Some(log_destroy),
    );
    assert_eq!(status, 0);
    let object: WDFOBJECT = item.cast();
    let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
    attributes.ContextTypeInfo = &EXTRA_CONTEXT.0;
    attributes.EvtCleanupCallback = Some(log_extra_cleanup);
    attributes.EvtDestroyCallback = Some(log_extra_destroy);
    let mut extra: *mut c_void = null_mut();
    // SAFETY: a live object; valid pointers.
    unsafe {
        assert_eq!(
            w::WdfObjectAllocateContext(object, &mut attributes, &mut extra),
            0
        );
        let context = w::WdfObjectGetTypedContextWorker(object, &ITEM_CONTEXT.0);
        context.cast::<u8>().write(0x5A);
        w::WdfObjectReferenceActual(object, null_mut(), 0, null());
        w::WdfObjectDelete(object);
    }
    assert_eq!(
        take_log(),
        ["cleanup", "extra cleanup"],
        "at dispose, in the delete call"
    );
    // SAFETY: still referenced, so still a live object.
    unsafe {
        assert_eq!(
            w::WdfObjectAllocateContext(object, &mut attributes, &mut extra),
            w::STATUS_DELETE_PENDING
        );
        assert!(!w::WdfObjectGetTypedContextWorker(object, &ITEM_CONTEXT.0).is_null());
    }
    assert_eq!(
        exec.io_work_items_outstanding(),
        1,
        "the memory stays while referenced"
    );
    // SAFETY: drops the reference taken above.
    unsafe { w::WdfObjectDereferenceActual(object, null_mut(), 0, null()) };
    assert_eq!(take_log(), ["destroy (context intact)", "extra destroy"]);
    assert_eq!(
        exec.io_work_items_outstanding(),
        0,
        "destroyed: its IO_WORKITEM freed"
    );
    assert_eq!(exec.bug_check(), None);
}

unsafe extern "system" fn delete_self(item: WDFWORKITEM) {
    log("callback");
    // SAFETY: the live item, deleted from its own callback as KMDF allows.
    unsafe { w::WdfObjectDelete(item.cast()) };
    log("delete returned");
}

#[test]
fn delete_inside_the_callback_cleans_up_inside_the_call_and_destroys_after_it_returns() {
    let exec = Executive::manual();
    let (_driver, device) = device(&exec);
    let (_, item) = create(
        device.as_raw().cast(),
        Some(delete_self),
        Some(log_cleanup),
        Some(log_destroy),
    );
    // SAFETY: a live item.
    unsafe { w::WdfWorkItemEnqueue(item) };
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        take_log(),
        ["callback", "cleanup", "delete returned", "destroy"]
    );
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "system" fn requeue_then_delete(item: WDFWORKITEM) {
    if RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
        log("first run");
        // SAFETY: the live item: queue it again, then delete it.
        unsafe {
            w::WdfWorkItemEnqueue(item);
            w::WdfObjectDelete(item.cast());
        }
    } else {
        log("second run");
    }
}

/// KMDF: the enqueue made before the delete holds a reference, so its
/// callback still runs, after the cleanup; the IO_WORKITEM is freed only at
/// the last reference, never while queued.
#[test]
fn an_enqueue_before_a_delete_in_the_callback_still_runs_after_cleanup() {
    let exec = Executive::manual();
    let (_driver, device) = device(&exec);
    let (_, item) = create(
        device.as_raw().cast(),
        Some(requeue_then_delete),
        Some(log_cleanup),
        Some(log_destroy),
    );
    // SAFETY: a live item.
    unsafe { w::WdfWorkItemEnqueue(item) };
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(
        take_log(),
        ["first run", "cleanup", "second run", "destroy"]
    );
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

unsafe extern "system" fn enqueue_in_cleanup(object: WDFOBJECT) {
    log("cleanup");
    // SAFETY: the item being deleted (its disposal started before cleanup).
    unsafe { w::WdfWorkItemEnqueue(object.cast()) };
    // SAFETY: the item being deleted, whose memory lives through its cleanup.
    let parent = unsafe { w::WdfWorkItemGetParentObject(object.cast()) };
    log(if parent.is_null() {
        "parent gone"
    } else {
        "parent"
    });
}

unsafe extern "system" fn log_callback(_: WDFWORKITEM) {
    log("callback");
}

/// KMDF marks the item running down first thing in its `Dispose`, before
/// EvtCleanupCallback: an enqueue from the cleanup is ignored (a verifier
/// break only with the KMDF verifier), and the item has let go of its parent.
#[test]
fn an_enqueue_of_an_item_being_deleted_is_ignored() {
    for verifier in [false, true] {
        let exec = Executive::manual();
        exec.set_kmdf_verifier(verifier);
        let (_driver, device) = device(&exec);
        let (_, item) = create(
            device.as_raw().cast(),
            Some(log_callback),
            Some(enqueue_in_cleanup),
            None,
        );
        // SAFETY: a live item.
        unsafe { w::WdfObjectDelete(item.cast()) };
        assert_eq!(exec.run_until_idle(), 0, "nothing was queued");
        assert_eq!(take_log(), ["cleanup", "parent gone"]);
        if verifier {
            let stop = exec.expect_bug_check();
            assert_eq!(stop.code, bugcheck::HOST_WDF_VERIFIER_BREAK);
            assert_eq!(stop.parameters[..2], [2, item.addr()]);
        } else {
            assert_eq!(exec.bug_check(), None, "a trace message only");
            assert_eq!(exec.io_work_items_outstanding(), 0, "destroyed at once");
        }
    }
}

unsafe extern "system" fn log_queue_cleanup(_: WDFOBJECT) {
    log("queue cleanup");
}

unsafe extern "system" fn log_device_cleanup(_: WDFOBJECT) {
    log("device cleanup");
}

#[test]
fn children_are_disposed_before_their_parents_cleanup() {
    let exec = Executive::manual();
    let driver = exec.load_driver("tree.sys");
    let device = driver.create_wdf_device(WdfDeviceConfig {
        cleanup: Some(log_device_cleanup),
        ..WdfDeviceConfig::default()
    });
    let queue: WDFOBJECT = device.create_queue().cast();
    let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
    attributes.ContextTypeInfo = &EXTRA_CONTEXT.0;
    attributes.EvtCleanupCallback = Some(log_queue_cleanup);
    let mut space = null_mut();
    // SAFETY: a live queue; valid pointers.
    let status = unsafe { w::WdfObjectAllocateContext(queue, &mut attributes, &mut space) };
    assert_eq!(status, 0);
    let (_, item) = create(queue, Some(noop), Some(log_cleanup), Some(log_destroy));
    // SAFETY: a live item, referenced beyond its parent's delete.
    unsafe { w::WdfObjectReferenceActual(item.cast(), null_mut(), 0, null()) };
    device.delete();
    assert_eq!(take_log(), ["cleanup", "queue cleanup", "device cleanup"]);
    // SAFETY: the reference taken above keeps the item's memory.
    unsafe { w::WdfObjectDereferenceActual(item.cast(), null_mut(), 0, null()) };
    assert_eq!(take_log(), ["destroy"]);
    assert_eq!(driver.unload(), Ok(()));
    assert!(!exec.is_image_mapped("tree.sys"));
    assert_eq!(exec.bug_check(), None);
}

static SECOND_ENTERED: AtomicBool = AtomicBool::new(false);
static SECOND_MAY_LEAVE: AtomicBool = AtomicBool::new(false);
static FIRST_DONE: AtomicBool = AtomicBool::new(false);
static CONCURRENT_RUNS: AtomicUsize = AtomicUsize::new(0);

/// First run: re-enqueues the item and returns once the second run (on
/// another worker) is inside its callback. Second run: waits for the test.
unsafe extern "system" fn overlapping(item: WDFWORKITEM) {
    if CONCURRENT_RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
        // SAFETY: the live item; queued again while this run goes on.
        unsafe { w::WdfWorkItemEnqueue(item) };
        while !SECOND_ENTERED.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        FIRST_DONE.store(true, Ordering::SeqCst);
    } else {
        SECOND_ENTERED.store(true, Ordering::SeqCst);
        while !SECOND_MAY_LEAVE.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// KMDF counts running callbacks (`m_WorkItemRunningCount`): a flush while a
/// re-enqueued run is still inside its callback waits for it, though the
/// first run has returned and nothing is queued.
#[test]
fn flush_waits_for_every_running_callback() {
    let exec = Executive::new();
    let (_driver, device) = device(&exec);
    let (_, item) = create(device.as_raw().cast(), Some(overlapping), None, None);
    // SAFETY: a live item.
    unsafe { w::WdfWorkItemEnqueue(item) };
    let started = Instant::now();
    while !(FIRST_DONE.load(Ordering::SeqCst) && SECOND_ENTERED.load(Ordering::SeqCst)) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "both runs started"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20)); // the first run has left
    let flushed = AtomicBool::new(false);
    let handle = item.expose_provenance();
    std::thread::scope(|s| {
        s.spawn(|| {
            let _bound = exec.enter();
            let item: WDFWORKITEM = core::ptr::with_exposed_provenance_mut(handle);
            // SAFETY: a live item, flushed from another thread at PASSIVE_LEVEL.
            unsafe { w::WdfWorkItemFlush(item) };
            flushed.store(true, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !flushed.load(Ordering::SeqCst),
            "flush returned while a callback ran"
        );
        SECOND_MAY_LEAVE.store(true, Ordering::SeqCst);
    });
    assert!(flushed.load(Ordering::SeqCst));
    assert_eq!(CONCURRENT_RUNS.load(Ordering::SeqCst), 2);
    assert_eq!(exec.bug_check(), None);
}

unsafe extern "C" {
    static WdfFunctions_01015: *const w::WDFFUNC;
    static WdfFunctions_01031: *const w::WDFFUNC;
    static WdfFunctions_01033: *const w::WDFFUNC;
}

/// One table under each KMDF version's name: a driver built for 1.15, 1.31
/// or 1.33 binds by that name (the indices never move).
#[test]
fn the_table_is_bound_under_each_kmdf_versions_name() {
    // SAFETY: the host's statics, set at load and never written.
    let (v15, v31, v33) = unsafe { (WdfFunctions_01015, WdfFunctions_01031, WdfFunctions_01033) };
    assert_eq!(v15, v33);
    // SAFETY: the table static ntwork-sys links to for the default KMDF
    // version (1.33); the host sets it at load and never writes it again.
    assert_eq!(unsafe { w::WdfFunctions }, v33);
    assert_eq!(v31, v33);
    // SAFETY: the table has WdfFunctionTableNumEntries entries.
    let create = unsafe { *v15.add(w::WdfWorkItemCreateTableIndex) };
    assert!(create.is_some());
}

static EAGER_RUNS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "system" fn count_eager(_: WDFWORKITEM) {
    EAGER_RUNS.fetch_add(1, Ordering::SeqCst);
}

/// On an eager executive `WdfWorkItemEnqueue` returns after the callback
/// ran on a worker thread (and the enqueue's reference was dropped).
#[test]
fn an_eager_enqueue_returns_after_the_callback_ran() {
    let exec = Executive::eager();
    let (_driver, device) = device(&exec);
    let (_, item) = create(device.as_raw().cast(), Some(count_eager), None, None);
    // SAFETY: a live item.
    unsafe { w::WdfWorkItemEnqueue(item) };
    assert_eq!(EAGER_RUNS.load(Ordering::SeqCst), 1);
    // SAFETY: a live item; nothing is queued or running, so no wait.
    unsafe { w::WdfWorkItemFlush(item) };
    assert_eq!(exec.bug_check(), None);
}

std::thread_local! {
    /// The status and handle of a create made in a device's cleanup.
    static CREATED_IN_CLEANUP: core::cell::Cell<Option<(i32, usize)>> =
        const { core::cell::Cell::new(None) };
}

unsafe extern "system" fn create_in_device_cleanup(device: WDFOBJECT) {
    log("device cleanup");
    let (status, item) = create(device, Some(noop), Some(log_cleanup), Some(log_destroy));
    CREATED_IN_CLEANUP.with(|c| c.set(Some((status, item.addr()))));
}

/// KMDF (`FxObject::AddChildObjectInternal`, from `Commit` in
/// `FxWorkItem::Initialize`): a parent that is no longer in its created state
/// takes no child: `STATUS_DELETE_PENDING`, and the failed create clears the
/// item's callbacks before deleting it (`DeleteFromFailedCreate`). A device's
/// cleanup runs while its WDM device is valid (`FxDevice::Dispose`), so the
/// create gets that far without a stop.
#[test]
fn a_create_under_a_parent_being_deleted_is_delete_pending() {
    let exec = Executive::manual();
    let driver = exec.load_driver("pending.sys");
    let device = driver.create_wdf_device(WdfDeviceConfig {
        cleanup: Some(create_in_device_cleanup),
        ..WdfDeviceConfig::default()
    });
    device.delete();
    assert_eq!(
        CREATED_IN_CLEANUP.with(core::cell::Cell::take),
        Some((w::STATUS_DELETE_PENDING, 0))
    );
    assert_eq!(
        take_log(),
        ["device cleanup"],
        "no callback of the refused item"
    );
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}
