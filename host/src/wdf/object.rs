//! Framework objects: what each one holds (its kind's state, parent,
//! children, context spaces, reference count, state), and the registry of
//! every object by handle. Their lifetime is [`super::lifetime`]'s.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Duration;
use std::vec::Vec;

use ntwork_sys::wdf::{
    PCWDF_OBJECT_CONTEXT_TYPE_INFO, PFN_WDF_OBJECT_CONTEXT_CLEANUP, PFN_WDF_OBJECT_CONTEXT_DESTROY,
    WDFOBJECT, WDFOBJECT__,
};
use ntwork_sys::{self as ffi};

use crate::binding::current;
use crate::bugcheck::{BugCheck, HOST_WDF_WAITS_FOR_ITSELF};
use crate::state::{Block, Ptr};
use crate::sync::{Condvar, Mutex, MutexGuard};

/// `FX_TYPE_OBJECT`: any framework object (`FxTypes.h`).
pub(super) const FX_TYPE_OBJECT: u16 = 0x1000;
/// `FX_TYPE_DEVICE`.
pub(super) const FX_TYPE_DEVICE: u16 = 0x1002;
/// `FX_TYPE_QUEUE`.
pub(super) const FX_TYPE_QUEUE: u16 = 0x1003;
/// `FX_TYPE_WORKITEM`.
pub(super) const FX_TYPE_WORKITEM: u16 = 0x1025;

/// The memory a handle points to: what `WDFOBJECT` values are addresses of.
/// A host handle (`WdfDeviceHandle`) keeps it while it exists.
pub(super) struct Header {
    _byte: u8,
}

impl Header {
    /// A new object's handle memory.
    pub(super) fn new() -> Arc<Header> {
        Arc::new(Header { _byte: 0 })
    }
}

/// A framework device's own state.
pub(super) struct DeviceState {
    /// The WDM device object underneath (for the Io work items).
    pub(super) device: crate::Device,
    /// `WdfExecutionLevelPassive` (else dispatch).
    pub(super) passive: bool,
    /// `WdfSynchronizationScopeDevice` (else none).
    pub(super) synchronized: bool,
    /// The device's synchronization lock.
    pub(super) lock: Arc<Mutex<()>>,
}

/// A framework work item's own state (`FxWorkItem`'s members).
pub(super) struct WorkItemState {
    /// The `IO_WORKITEM` it runs on, freed when the object is destroyed.
    pub(super) io: Ptr<ffi::IO_WORKITEM>,
    pub(super) callback: ntwork_sys::wdf::EVT_WDF_WORKITEM,
    /// The device's lock, with AutomaticSerialization under a synchronized device.
    pub(super) lock: Option<Arc<Mutex<()>>>,
    /// `m_Enqueued`: queued and its callback not yet started.
    pub(super) enqueued: bool,
    /// `m_WorkItemRunningCount`, and the threads running the callback.
    pub(super) running: Vec<ThreadId>,
    /// `m_WorkItemThread`: the thread of the run that started last, cleared
    /// when any run returns; a flush or dispose on it does not wait.
    pub(super) thread: Option<ThreadId>,
    /// `m_RunningDown`: disposal has started; enqueues are ignored.
    pub(super) running_down: bool,
    /// `m_Object`: the parent it holds a reference on, until disposed.
    pub(super) associated: Option<usize>,
}

/// What a framework object is.
pub(super) enum Kind {
    Device(DeviceState),
    Queue,
    WorkItem(WorkItemState),
}

/// `FxObjectState`, as far as the host needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lifecycle {
    /// `FxObjectStateCreated`.
    Created,
    /// Disposal running (`DisposingEarly` / `DeletedDisposing`).
    Disposing,
    /// Disposed by its parent, waiting for the parent's delete.
    Disposed,
    /// `FxObjectStateDeletedAndDisposed`.
    Deleted,
}

/// A context space (`FxContextHeader`) with its own callbacks.
pub(super) struct Context {
    pub(super) info: Ptr<ntwork_sys::wdf::WDF_OBJECT_CONTEXT_TYPE_INFO>,
    pub(super) block: Block,
    pub(super) cleanup: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    pub(super) destroy: PFN_WDF_OBJECT_CONTEXT_DESTROY,
}

/// A framework object.
pub(super) struct Object {
    pub(super) header: Arc<Header>,
    pub(super) kind: Kind,
    pub(super) lifecycle: Lifecycle,
    pub(super) refs: usize,
    pub(super) parent: Option<usize>,
    pub(super) children: Vec<usize>,
    /// The first from the creation attributes, then `WdfObjectAllocateContext`'s.
    pub(super) contexts: Vec<Context>,
    /// The DRIVER_OBJECT of the driver the object belongs to.
    pub(super) driver: Ptr<ffi::DRIVER_OBJECT>,
}

impl Object {
    /// `FX_TYPE_*` of the object.
    pub(super) fn fx_type(&self) -> u16 {
        match self.kind {
            Kind::Device(_) => FX_TYPE_DEVICE,
            Kind::Queue => FX_TYPE_QUEUE,
            Kind::WorkItem(_) => FX_TYPE_WORKITEM,
        }
    }
}

/// Every framework object of the process, by handle address.
pub(super) struct Registry {
    pub(super) objects: HashMap<usize, Object>,
}

impl Registry {
    pub(super) fn item(&mut self, handle: usize) -> Option<&mut WorkItemState> {
        match self.objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem(item)) => Some(item),
            _ => None,
        }
    }
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
/// Signalled when a callback ends (flush and disposal wait on it).
static CHANGED: Condvar = Condvar::new();

/// The registry, locked.
pub(super) struct Locked(MutexGuard<'static, Option<Registry>>);

impl core::ops::Deref for Locked {
    type Target = Registry;
    fn deref(&self) -> &Registry {
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("initialized by lock()"))
    }
}

impl core::ops::DerefMut for Locked {
    fn deref_mut(&mut self) -> &mut Registry {
        self.0.get_or_insert_with(|| Registry {
            objects: HashMap::new(),
        })
    }
}

/// Locks the registry.
pub(super) fn lock() -> Locked {
    let mut guard = REGISTRY.lock();
    guard.get_or_insert_with(|| Registry {
        objects: HashMap::new(),
    });
    Locked(guard)
}

/// Waits (at most `timeout`) for a callback to end, releasing the registry.
pub(super) fn wait_changed(reg: Locked, timeout: Duration) {
    drop(CHANGED.wait_timeout(reg.0, timeout));
}

/// Wakes the waiters of flush and disposal.
pub(super) fn notify() {
    CHANGED.notify_all();
}

/// A new object's handle value: the address of its header.
pub(super) fn handle_of(header: &Arc<Header>) -> WDFOBJECT {
    Arc::as_ptr(header).cast_mut().cast::<WDFOBJECT__>()
}

/// Adds `object` to the registry (and to its parent's children); its handle.
pub(super) fn insert(object: Object) -> WDFOBJECT {
    let handle = handle_of(&object.header);
    let mut reg = lock();
    if let Some(parent) = object.parent.and_then(|p| reg.objects.get_mut(&p)) {
        parent.children.push(handle.addr());
    }
    reg.objects.insert(handle.addr(), object);
    handle
}

/// Registers a work item under its parent, which it holds a reference on
/// (`ADDREF` in `FxWorkItem::Initialize`), unless the parent is no longer in
/// its created state: then the object comes back, for
/// `STATUS_DELETE_PENDING` (`FxObject::AddChildObjectInternal`, under the
/// parent's lock, as here under the registry's).
pub(super) fn insert_holding_parent(object: Object) -> Result<WDFOBJECT, Box<Object>> {
    let handle = handle_of(&object.header);
    let mut reg = lock();
    if let Some(parent) = object.parent.and_then(|p| reg.objects.get_mut(&p)) {
        if parent.lifecycle != Lifecycle::Created {
            return Err(Box::new(object));
        }
        parent.children.push(handle.addr());
        parent.refs += 1;
    }
    reg.objects.insert(handle.addr(), object);
    Ok(handle)
}

/// The handle value of a registered object, with the header's provenance.
pub(super) fn handle_ptr(handle: usize) -> WDFOBJECT {
    lock()
        .objects
        .get(&handle)
        .map_or(core::ptr::null_mut(), |o| handle_of(&o.header))
}

/// The device object a parent chain leads to.
pub(super) fn device_of(reg: &Registry, mut handle: usize) -> Option<usize> {
    loop {
        let object = reg.objects.get(&handle)?;
        if matches!(object.kind, Kind::Device(_)) {
            return Some(handle);
        }
        handle = object.parent?;
    }
}

/// The context of `handle` whose type is `info` (by `UniqueType`, as the
/// framework compares them).
pub(super) fn find_context(
    object: &Object,
    info: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
) -> Option<&Context> {
    let unique = |info: PCWDF_OBJECT_CONTEXT_TYPE_INFO| {
        // SAFETY: context type infos are the driver's statics.
        unsafe { info.as_ref() }.map_or(0, |i| i.UniqueType.addr())
    };
    let wanted = unique(info);
    object
        .contexts
        .iter()
        .find(|c| unique(c.info.0.cast_const()) == wanted)
}

/// Whether the calling thread runs a callback of the item, and whether KMDF
/// would know it (`m_WorkItemThread`).
pub(super) enum OwnCallback {
    /// Not a callback of the item: a flush waits.
    No,
    /// The callback of the run that started last: a flush returns at once.
    Recognized,
    /// A callback of the item, but another run started since: KMDF waits
    /// for it, its own run included.
    Unrecognized,
}

pub(super) fn own_callback(handle: usize) -> OwnCallback {
    let me = std::thread::current().id();
    let mut reg = lock();
    match reg.item(handle) {
        Some(item) if item.thread == Some(me) => OwnCallback::Recognized,
        Some(item) if item.running.contains(&me) => OwnCallback::Unrecognized,
        _ => OwnCallback::No,
    }
}

/// [`HOST_WDF_WAITS_FOR_ITSELF`]: the wait KMDF would make never ends.
pub(super) fn waits_for_itself(handle: usize, export: usize) {
    current().raise(BugCheck::new(
        HOST_WDF_WAITS_FOR_ITSELF,
        [export, handle, 0, 0],
    ));
}
