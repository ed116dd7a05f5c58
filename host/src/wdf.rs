//! The KMDF pieces of work items: the function table `WdfFunctions_01033`
//! and `WdfDriverGlobals` that a KMDF driver calls through, with the rules of
//! KMDF (see `docs/kmdf.md`): a work item needs a parent whose chain leads to
//! a device; AutomaticSerialization needs a passive-level parent when the
//! parent synchronizes (`STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL`); an enqueue
//! of a queued item is ignored; the callback runs at PASSIVE_LEVEL on the
//! host's Io work items (as KMDF's `FxWorkItem` does), under the device's lock
//! when serialized; flush waits for a running callback, and from inside the
//! callback it is Driver Verifier's break (a host diagnostic here); deleting a
//! parent disposes its children before the parent's cleanup; a work item
//! deleted inside its own callback is disposed when the callback returns.

#![allow(non_snake_case, non_upper_case_globals)]

use core::ffi::c_void;
use core::ptr::null_mut;
use std::boxed::Box;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};
use std::vec::Vec;

use ntwork_sys::wdf::{
    self as w, PCWDF_OBJECT_CONTEXT_TYPE_INFO, PFN_WDF_OBJECT_CONTEXT_CLEANUP, PFN_WDF_WORKITEM,
    PWDF_DRIVER_GLOBALS, WDF_DRIVER_GLOBALS, WDFFUNC, WDFOBJECT, WDFWORKITEM,
};
use ntwork_sys::{self as ffi, NTSTATUS, STATUS_SUCCESS};

use crate::binding::current;
use crate::bugcheck::{
    BugCheck, HOST_IRQL_ABOVE_DISPATCH, HOST_MANUAL_WAIT_BLOCKS, HOST_UNKNOWN_OBJECT,
    HOST_WDF_VERIFIER_BREAK,
};
use crate::irql::current_irql;
use crate::sync::Mutex;

/// What a host framework object is.
enum Kind {
    Device {
        /// The WDM device object underneath (for the Io work items).
        device: crate::Device,
        /// `WdfExecutionLevelPassive` (else dispatch).
        passive: bool,
        /// `WdfSynchronizationScopeDevice` (else none).
        synchronized: bool,
        /// The device's synchronization lock.
        lock: Arc<Mutex<()>>,
    },
    Queue,
    WorkItem {
        io: usize,
        callback: PFN_WDF_WORKITEM,
        serialized: bool,
        queued: bool,
        running_on: Option<ThreadId>,
        delete_pending: bool,
    },
}

struct Object {
    kind: Kind,
    parent: Option<usize>,
    children: Vec<usize>,
    context: Option<(PCWDF_OBJECT_CONTEXT_TYPE_INFO, usize, usize)>,
    cleanup: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    /// Context space added by `WdfObjectAllocateContext`, each with its own
    /// cleanup callback.
    extra: Vec<(
        PCWDF_OBJECT_CONTEXT_TYPE_INFO,
        usize,
        usize,
        PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    )>,
    /// Being disposed: `WdfObjectAllocateContext` is `STATUS_DELETE_PENDING`.
    disposing: bool,
}

// SAFETY: the raw pointers are handles and framework-owned memory, used only
// under the registry's lock or by the framework's own calls.
unsafe impl Send for Object {}

static OBJECTS: Mutex<Option<HashMap<usize, Object>>> = Mutex::new(None);

fn with_objects<T>(f: impl FnOnce(&mut HashMap<usize, Object>) -> T) -> T {
    let mut guard = OBJECTS.lock();
    f(guard.get_or_insert_with(HashMap::new))
}

std::thread_local! {
    /// The work item whose callback runs on this thread.
    static IN_CALLBACK: Cell<usize> = const { Cell::new(0) };
}

/// A fresh handle value: the address of a leaked byte, unique for the process.
fn new_handle() -> usize {
    Box::into_raw(Box::new(0u8)) as usize
}

/// Configuration of a host WDF device.
#[derive(Debug, Clone, Copy)]
pub struct WdfDeviceConfig {
    /// `WdfExecutionLevelPassive` (default true).
    pub passive: bool,
    /// `WdfSynchronizationScopeDevice` (default false: none).
    pub synchronized: bool,
    /// The device's `EvtCleanupCallback`.
    pub cleanup: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
}

impl Default for WdfDeviceConfig {
    fn default() -> Self {
        Self {
            passive: true,
            synchronized: false,
            cleanup: None,
        }
    }
}

/// A host `WDFDEVICE` of a [`Driver`](crate::Driver), over a WDM device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WdfDeviceHandle {
    handle: usize,
}

impl WdfDeviceHandle {
    /// The `WDFDEVICE`.
    pub fn as_raw(&self) -> w::WDFDEVICE {
        self.handle as w::WDFDEVICE
    }

    /// A `WDFQUEUE` of this device (a parent whose chain leads to the device).
    pub fn create_queue(&self) -> w::WDFQUEUE {
        let handle = new_handle();
        with_objects(|objects| {
            objects.insert(
                handle,
                Object {
                    kind: Kind::Queue,
                    parent: Some(self.handle),
                    children: Vec::new(),
                    context: None,
                    cleanup: None,
                    extra: Vec::new(),
                    disposing: false,
                },
            );
            if let Some(device) = objects.get_mut(&self.handle) {
                device.children.push(handle);
            }
        });
        handle as w::WDFQUEUE
    }

    /// Deletes the device (`WdfObjectDelete`, as PnP removal does): children
    /// first (work items flushed and disposed), then the device's cleanup.
    pub fn delete(&self) {
        delete_object(self.handle);
    }
}

/// Makes a WDF device of `driver` (used by `Driver::create_wdf_device`).
pub(crate) fn create_device(device: crate::Device, config: WdfDeviceConfig) -> WdfDeviceHandle {
    let handle = new_handle();
    with_objects(|objects| {
        objects.insert(
            handle,
            Object {
                kind: Kind::Device {
                    device,
                    passive: config.passive,
                    synchronized: config.synchronized,
                    lock: Arc::new(Mutex::new(())),
                },
                parent: None,
                children: Vec::new(),
                context: None,
                cleanup: config.cleanup,
                extra: Vec::new(),
                disposing: false,
            },
        );
    });
    WdfDeviceHandle { handle }
}

fn raise(bug_check: BugCheck) {
    current().raise(bug_check);
}

fn too_high(export: usize, object: usize, limit: u8) -> bool {
    let irql = current_irql();
    if irql <= limit {
        return false;
    }
    raise(BugCheck::new(
        HOST_IRQL_ABOVE_DISPATCH,
        [export, irql.into(), object, 0],
    ));
    true
}

/// The device a parent chain leads to.
fn device_of(objects: &HashMap<usize, Object>, mut handle: usize) -> Option<usize> {
    loop {
        let object = objects.get(&handle)?;
        if matches!(object.kind, Kind::Device { .. }) {
            return Some(handle);
        }
        handle = object.parent?;
    }
}

unsafe extern "system" fn WdfWorkItemCreate(
    _: PWDF_DRIVER_GLOBALS,
    Config: *mut w::WDF_WORKITEM_CONFIG,
    Attributes: *mut w::WDF_OBJECT_ATTRIBUTES,
    WorkItem: *mut WDFWORKITEM,
) -> NTSTATUS {
    let export = WdfWorkItemCreate as *const () as usize;
    if too_high(export, 0, ffi::DISPATCH_LEVEL) {
        return w::STATUS_INVALID_DEVICE_STATE;
    }
    if Config.is_null() || WorkItem.is_null() {
        return w::STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's valid config.
    let config = unsafe { *Config };
    if config.Size as usize != size_of::<w::WDF_WORKITEM_CONFIG>() {
        return w::STATUS_INFO_LENGTH_MISMATCH;
    }
    // SAFETY: the caller's attributes, if any.
    let Some(attributes) = (unsafe { Attributes.as_ref() }).copied() else {
        return w::STATUS_WDF_PARENT_NOT_SPECIFIED;
    };
    if attributes.Size as usize != size_of::<w::WDF_OBJECT_ATTRIBUTES>() {
        return w::STATUS_INFO_LENGTH_MISMATCH;
    }
    let parent = attributes.ParentObject as usize;
    if parent == 0 {
        return w::STATUS_WDF_PARENT_NOT_SPECIFIED;
    }
    let found = with_objects(|objects| {
        let device = device_of(objects, parent)?;
        match &objects[&device].kind {
            Kind::Device {
                device,
                passive,
                synchronized,
                ..
            } => Some((device.as_raw(), *passive, *synchronized)),
            _ => None,
        }
    });
    let Some((device_object, passive, synchronized)) = found else {
        raise(BugCheck::new(HOST_UNKNOWN_OBJECT, [export, parent, 0, 0]));
        return w::STATUS_INVALID_PARAMETER;
    };
    let serialized = config.AutomaticSerialization != 0;
    if serialized && synchronized && !passive {
        return w::STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL;
    }
    // SAFETY: a live device object of the executive.
    let io = unsafe { ffi::IoAllocateWorkItem(device_object) };
    if io.is_null() {
        return w::STATUS_INSUFFICIENT_RESOURCES;
    }
    let context = (!attributes.ContextTypeInfo.is_null()).then(|| {
        // SAFETY: the caller's type info.
        let size = unsafe { (*attributes.ContextTypeInfo).ContextSize }
            .max(attributes.ContextSizeOverride)
            .max(1);
        let layout = core::alloc::Layout::from_size_align(size, 16)
            .unwrap_or(core::alloc::Layout::new::<u128>());
        // SAFETY: a non-zero layout.
        let memory = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
        (attributes.ContextTypeInfo, memory, layout.size())
    });
    let handle = new_handle();
    with_objects(|objects| {
        objects.insert(
            handle,
            Object {
                kind: Kind::WorkItem {
                    io: io as usize,
                    callback: config.EvtWorkItemFunc,
                    serialized,
                    queued: false,
                    running_on: None,
                    delete_pending: false,
                },
                parent: Some(parent),
                children: Vec::new(),
                context,
                cleanup: attributes.EvtCleanupCallback,
                extra: Vec::new(),
                disposing: false,
            },
        );
        if let Some(parent) = objects.get_mut(&parent) {
            parent.children.push(handle);
        }
    });
    // SAFETY: the caller's out pointer.
    unsafe { WorkItem.write(handle as WDFWORKITEM) };
    STATUS_SUCCESS
}

unsafe extern "system" fn WdfWorkItemEnqueue(_: PWDF_DRIVER_GLOBALS, WorkItem: WDFWORKITEM) {
    let export = WdfWorkItemEnqueue as *const () as usize;
    let handle = WorkItem as usize;
    if too_high(export, handle, ffi::DISPATCH_LEVEL) {
        return;
    }
    let io = with_objects(
        |objects| match objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem { queued, io, .. }) => {
                if *queued {
                    return Ok(None);
                }
                *queued = true;
                Ok(Some(*io))
            }
            _ => Err(()),
        },
    );
    match io {
        Ok(Some(io)) => {
            // SAFETY: the item's own IO_WORKITEM, not queued (the flag).
            unsafe {
                ffi::IoQueueWorkItemEx(
                    io as ffi::PIO_WORKITEM,
                    Some(run_callback),
                    ffi::DelayedWorkQueue,
                    handle as *mut c_void,
                );
            }
        }
        Ok(None) => {} // queued already: ignored, as KMDF 1.7+ does
        Err(()) => raise(BugCheck::new(HOST_UNKNOWN_OBJECT, [export, handle, 0, 0])),
    }
}

/// The Io routine behind every WDF work item.
unsafe extern "system" fn run_callback(_: *mut c_void, context: *mut c_void, _: ffi::PIO_WORKITEM) {
    let handle = context as usize;
    let me = std::thread::current().id();
    let found = with_objects(|objects| {
        let lock = {
            let object = objects.get(&handle)?;
            let Kind::WorkItem { serialized, .. } = object.kind else {
                return None;
            };
            let device = device_of(objects, object.parent?)?;
            match &objects[&device].kind {
                Kind::Device {
                    synchronized: true,
                    lock,
                    ..
                } if serialized => Some(Arc::clone(lock)),
                _ => None,
            }
        };
        let Kind::WorkItem {
            queued,
            running_on,
            callback,
            ..
        } = &mut objects.get_mut(&handle)?.kind
        else {
            return None;
        };
        *queued = false;
        *running_on = Some(me);
        Some((*callback, lock))
    });
    let Some((callback, lock)) = found else {
        return;
    };
    {
        let _serialized = lock.as_ref().map(|lock| lock.lock());
        let previous = IN_CALLBACK.with(|c| c.replace(handle));
        if let Some(callback) = callback {
            // SAFETY: the driver's callback for its item.
            unsafe { callback(handle as WDFWORKITEM) };
        }
        IN_CALLBACK.with(|c| c.set(previous));
    }
    let dispose_now = with_objects(
        |objects| match objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem {
                running_on,
                delete_pending,
                ..
            }) => {
                *running_on = None;
                *delete_pending
            }
            _ => false,
        },
    );
    if dispose_now {
        dispose(handle);
    }
}

/// Waits until the work item is neither queued nor running.
fn wait_for(handle: usize, export: usize) {
    let started = Instant::now();
    loop {
        let busy = with_objects(|objects| match objects.get(&handle).map(|o| &o.kind) {
            Some(Kind::WorkItem {
                queued, running_on, ..
            }) => *queued || running_on.is_some(),
            _ => false,
        });
        if !busy {
            return;
        }
        if started.elapsed() > Duration::from_millis(200)
            && let Some(pending) = current().manual_wait_blocks()
        {
            raise(BugCheck::new(
                HOST_MANUAL_WAIT_BLOCKS,
                [export, handle, pending, 0],
            ));
            return;
        }
        if current().bug_check_recorded() {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

unsafe extern "system" fn WdfWorkItemFlush(_: PWDF_DRIVER_GLOBALS, WorkItem: WDFWORKITEM) {
    let export = WdfWorkItemFlush as *const () as usize;
    let handle = WorkItem as usize;
    if IN_CALLBACK.with(Cell::get) == handle {
        // Driver Verifier breaks: the flush would wait for itself.
        raise(BugCheck::new(
            HOST_WDF_VERIFIER_BREAK,
            [1, handle, export, 0],
        ));
        return;
    }
    if too_high(export, handle, ffi::PASSIVE_LEVEL) {
        return;
    }
    wait_for(handle, export);
}

unsafe extern "system" fn WdfWorkItemGetParentObject(
    _: PWDF_DRIVER_GLOBALS,
    WorkItem: WDFWORKITEM,
) -> WDFOBJECT {
    with_objects(|objects| {
        objects
            .get(&(WorkItem as usize))
            .and_then(|o| o.parent)
            .map_or(null_mut(), |p| p as WDFOBJECT)
    })
}

unsafe extern "system" fn WdfObjectDelete(_: PWDF_DRIVER_GLOBALS, Object: WDFOBJECT) {
    delete_object(Object as usize);
}

/// `WdfObjectDelete`: a work item inside its own callback is disposed when
/// the callback returns; otherwise running callbacks are waited for,
/// children are disposed first, then the object's cleanup runs.
fn delete_object(handle: usize) {
    let export = WdfObjectDelete as *const () as usize;
    let in_own_callback = IN_CALLBACK.with(Cell::get) == handle;
    let is_item = with_objects(
        |objects| match objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem { delete_pending, .. }) => {
                if in_own_callback {
                    *delete_pending = true;
                }
                Some(true)
            }
            Some(_) => Some(false),
            None => None,
        },
    );
    match is_item {
        None => raise(BugCheck::new(HOST_UNKNOWN_OBJECT, [export, handle, 0, 0])),
        Some(true) if in_own_callback => {}
        Some(_) => {
            wait_for(handle, export);
            dispose(handle);
        }
    }
}

/// Disposes `handle` and its children (children first), running cleanup
/// callbacks, freeing context space and the Io work items.
fn dispose(handle: usize) {
    let export = WdfObjectDelete as *const () as usize;
    let children = with_objects(|objects| {
        objects
            .get_mut(&handle)
            .map(|o| {
                o.disposing = true;
                core::mem::take(&mut o.children)
            })
            .unwrap_or_default()
    });
    for child in children {
        wait_for(child, export);
        dispose(child);
    }
    let cleanup = with_objects(|objects| objects.get(&handle).and_then(|o| o.cleanup));
    if let Some(cleanup) = cleanup {
        // SAFETY: the driver's cleanup callback for its object, once.
        unsafe { cleanup(handle as WDFOBJECT) };
    }
    let extra_cleanups: Vec<_> = with_objects(|objects| {
        objects.get(&handle).map_or_else(Vec::new, |o| {
            o.extra
                .iter()
                .filter_map(|&(_, _, _, cleanup)| cleanup)
                .collect()
        })
    });
    for cleanup in extra_cleanups {
        // SAFETY: the cleanup callback of a context the driver added, once.
        unsafe { cleanup(handle as WDFOBJECT) };
    }
    let Some(object) = with_objects(|objects| {
        let object = objects.remove(&handle)?;
        if let Some(parent) = object.parent.and_then(|p| objects.get_mut(&p)) {
            parent.children.retain(|&c| c != handle);
        }
        Some(object)
    }) else {
        return;
    };
    if let Some((_, memory, size)) = object.context
        && let Ok(layout) = core::alloc::Layout::from_size_align(size, 16)
    {
        // SAFETY: allocated in WdfWorkItemCreate with this layout, freed once.
        unsafe { std::alloc::dealloc(memory as *mut u8, layout) };
    }
    for (_, memory, size, _) in object.extra {
        if let Ok(layout) = core::alloc::Layout::from_size_align(size, 16) {
            // SAFETY: allocated in WdfObjectAllocateContext with this layout,
            // freed once.
            unsafe { std::alloc::dealloc(memory as *mut u8, layout) };
        }
    }
    match object.kind {
        // SAFETY: the item's IO_WORKITEM, no longer queued (waited for).
        Kind::WorkItem { io, .. } => unsafe { ffi::IoFreeWorkItem(io as ffi::PIO_WORKITEM) },
        Kind::Device { device, .. } => device.delete(),
        Kind::Queue => {}
    }
}

unsafe extern "system" fn WdfObjectGetTypedContextWorker(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    TypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
) -> *mut c_void {
    let unique = |info: PCWDF_OBJECT_CONTEXT_TYPE_INFO| {
        // SAFETY: context type infos are the driver's statics.
        unsafe { info.as_ref() }.map_or(0, |i| i.UniqueType as usize)
    };
    let wanted = unique(TypeInfo);
    with_objects(|objects| {
        let Some(object) = objects.get(&(Handle as usize)) else {
            return null_mut();
        };
        object
            .context
            .iter()
            .map(|&(info, memory, _)| (info, memory))
            .chain(
                object
                    .extra
                    .iter()
                    .map(|&(info, memory, _, _)| (info, memory)),
            )
            .find(|&(info, _)| unique(info) == wanted)
            .map_or(null_mut(), |(_, memory)| memory as *mut c_void)
    })
}

/// `WdfObjectAllocateContext`: zeroed context space of another type for an
/// existing object; the existing space and `STATUS_OBJECT_NAME_EXISTS` if
/// the object has one of that type, `STATUS_DELETE_PENDING` while it is
/// being deleted (the DDI reference page's statuses).
unsafe extern "system" fn WdfObjectAllocateContext(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    ContextAttributes: *mut w::WDF_OBJECT_ATTRIBUTES,
    Context: *mut *mut c_void,
) -> NTSTATUS {
    // SAFETY: the caller's attributes.
    let Some(attributes) = (unsafe { ContextAttributes.as_ref() }) else {
        return w::STATUS_INVALID_PARAMETER;
    };
    if attributes.ContextTypeInfo.is_null() || !attributes.ParentObject.is_null() {
        return w::STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the lookup reads only the registry; the type info is the caller's.
    let existing =
        unsafe { WdfObjectGetTypedContextWorker(null_mut(), Handle, attributes.ContextTypeInfo) };
    if !existing.is_null() {
        // SAFETY: the caller's out pointer.
        unsafe { Context.write(existing) };
        return w::STATUS_OBJECT_NAME_EXISTS;
    }
    // SAFETY: the caller's type info.
    let size = unsafe { (*attributes.ContextTypeInfo).ContextSize }
        .max(attributes.ContextSizeOverride)
        .max(1);
    let Ok(layout) = core::alloc::Layout::from_size_align(size, 16) else {
        return w::STATUS_INVALID_PARAMETER;
    };
    let info = attributes.ContextTypeInfo;
    let cleanup = attributes.EvtCleanupCallback;
    with_objects(|objects| {
        let Some(object) = objects.get_mut(&(Handle as usize)) else {
            return w::STATUS_INVALID_PARAMETER;
        };
        if object.disposing {
            return w::STATUS_DELETE_PENDING;
        }
        // SAFETY: a non-zero layout.
        let memory = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
        object.extra.push((info, memory, layout.size(), cleanup));
        // SAFETY: the caller's out pointer.
        unsafe { Context.write(memory as *mut c_void) };
        STATUS_SUCCESS
    })
}

/// Disposes every framework object whose device belongs to `devices` (the
/// framework deletes a driver's objects when it unloads).
pub(crate) fn dispose_for_devices(devices: &[usize]) {
    let roots: Vec<usize> = with_objects(|objects| {
        objects
            .iter()
            .filter_map(|(&handle, object)| match &object.kind {
                Kind::Device { device, .. } if devices.contains(&(device.as_raw() as usize)) => {
                    Some(handle)
                }
                _ => None,
            })
            .collect()
    });
    for root in roots {
        dispose(root);
    }
}

/// Casts a table function to `WDFFUNC` (the table stores untyped pointers).
macro_rules! entry {
    ($f:expr, $t:ty) => {{
        let f: $t = $f;
        // SAFETY: only the pointer's type changes; the driver calls it with
        // the signature of its index, which is `$t`.
        Some(unsafe { core::mem::transmute::<$t, unsafe extern "system" fn()>(f) })
    }};
}

const fn table() -> [WDFFUNC; w::WdfFunctionTableNumEntries] {
    let mut t: [WDFFUNC; w::WdfFunctionTableNumEntries] = [None; w::WdfFunctionTableNumEntries];
    t[w::WdfWorkItemCreateTableIndex] = entry!(WdfWorkItemCreate, w::PFN_WDFWORKITEMCREATE);
    t[w::WdfWorkItemEnqueueTableIndex] = entry!(WdfWorkItemEnqueue, w::PFN_WDFWORKITEMENQUEUE);
    t[w::WdfWorkItemFlushTableIndex] = entry!(WdfWorkItemFlush, w::PFN_WDFWORKITEMENQUEUE);
    t[w::WdfWorkItemGetParentObjectTableIndex] = entry!(
        WdfWorkItemGetParentObject,
        w::PFN_WDFWORKITEMGETPARENTOBJECT
    );
    t[w::WdfObjectDeleteTableIndex] = entry!(WdfObjectDelete, w::PFN_WDFOBJECTDELETE);
    t[w::WdfObjectAllocateContextTableIndex] =
        entry!(WdfObjectAllocateContext, w::PFN_WDFOBJECTALLOCATECONTEXT);
    t[w::WdfObjectGetTypedContextWorkerTableIndex] = entry!(
        WdfObjectGetTypedContextWorker,
        w::PFN_WDFOBJECTGETTYPEDCONTEXTWORKER
    );
    t
}

static TABLE: [WDFFUNC; w::WdfFunctionTableNumEntries] = table();

static mut GLOBALS: WDF_DRIVER_GLOBALS = WDF_DRIVER_GLOBALS {
    Driver: null_mut(),
    DriverFlags: 0,
    DriverTag: 0,
    DriverName: [0; 32],
    DisplaceDriverUnload: 0,
};

/// The framework's function table (what the KMDF loader fills in at bind).
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01033: *const WDFFUNC = TABLE.as_ptr();

/// The driver's framework globals.
#[unsafe(no_mangle)]
pub static mut WdfDriverGlobals: PWDF_DRIVER_GLOBALS = &raw mut GLOBALS;
