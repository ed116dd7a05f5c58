//! The object manager's part: DRIVER_OBJECT and DEVICE_OBJECT memory laid
//! out as `wdm.h`, their pointer counts, and what happens at the last
//! reference (a device lets go of its driver object; a driver object's image
//! is unmapped and Driver Verifier's leak check runs; the memory goes).
//!
//! The host keeps an object's *memory* while a host handle
//! ([`Driver`](crate::Driver), [`Device`](crate::Device)) names it, even
//! after the object manager freed the object (a labelled host behaviour: no
//! pointer count changes, the executive no longer accepts the object); so a
//! borrow made from a handle never dangles.

use core::alloc::Layout;
use core::ffi::c_void;
use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::{
    DEVICE_OBJECT, DRIVER_OBJECT, KIRQL, PASSIVE_LEVEL, PDEVICE_OBJECT, UNICODE_STRING,
};

use crate::bugcheck::{
    BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, HOST_IRQL_TOO_HIGH, HOST_UNKNOWN_OBJECT,
    REFERENCE_BY_POINTER,
};
use crate::irql::current_irql;
use crate::state::{
    Block, DriverExtension, DriverRec, DriverState, Freed, Inner, ObjectKind, ObjectRec, Ptr,
    State, retire_device,
};

/// `IO_TYPE_DRIVER`.
pub(crate) const IO_TYPE_DRIVER: i16 = 4;
/// `IO_TYPE_DEVICE`.
pub(crate) const IO_TYPE_DEVICE: i16 = 3;

/// `sizeof(DEVICE_OBJECT)` in `wdm.h` (0x150 on 64-bit, 0xB8 on 32-bit); the
/// extension follows it, as `IoCreateDevice` lays it out.
pub(crate) const DEVICE_OBJECT_SIZE: usize = if size_of::<usize>() == 8 { 0x150 } else { 0xB8 };
/// `MEMORY_ALLOCATION_ALIGNMENT`.
const ALIGNMENT: usize = 16;

/// `size` zeroed bytes, 16-aligned (at least one byte).
pub(crate) fn allocate_zeroed(size: usize) -> Block {
    let layout = Layout::from_size_align(size.max(1), ALIGNMENT)
        .expect("an object larger than the address space");
    // SAFETY: a layout of non-zero size.
    let memory = unsafe { std::alloc::alloc_zeroed(layout) };
    if memory.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    Block {
        memory: Ptr(memory),
        layout,
    }
}

/// Records a new live object at `block`'s address.
fn insert(st: &mut State, kind: ObjectKind, block: Block, driver: usize, handles: usize) {
    let address = block.memory.addr();
    // The address may be a freed object's, whose memory went back: forget it.
    st.freed.remove(&address);
    st.objects.insert(
        address,
        ObjectRec {
            kind,
            block,
            driver,
            refs: 1,
            deletes: 0,
            handles,
            extensions: Vec::new(),
        },
    );
}

/// Makes a DRIVER_OBJECT for a driver named `name` with one host handle:
/// `Type` 4, `Size`, `DriverName` `\Driver\name`, no devices, no
/// DriverUnload. The I/O manager's reference is its pointer count of 1.
pub(crate) fn create_driver(inner: &Arc<Inner>, name: &Arc<str>) -> (usize, *mut DRIVER_OBJECT) {
    let full: Vec<u16> = "\\Driver\\"
        .encode_utf16()
        .chain(name.encode_utf16())
        .collect();
    let block = allocate_zeroed(size_of::<DRIVER_OBJECT>() + 2 * (full.len() + 1));
    let object = block.memory.0.cast::<DRIVER_OBJECT>();
    // The block holds the object, then the name's characters (and a zero
    // terminator), zeroed and 16-aligned; both are written before anyone
    // sees them.
    // SAFETY: the block is `size_of::<DRIVER_OBJECT>()` bytes and more, so
    // the offset stays inside it.
    let buffer = unsafe { block.memory.0.add(size_of::<DRIVER_OBJECT>()) }.cast::<u16>();
    // SAFETY: `buffer` has room for `full.len() + 1` characters and is
    // 2-aligned (a 16-aligned block, an even object size); the fresh block
    // cannot overlap `full`.
    unsafe { buffer.copy_from_nonoverlapping(full.as_ptr(), full.len()) };
    // SAFETY: `object` starts the fresh, 16-aligned block, which only this
    // call can reach until `insert`; all-zero bytes are a valid
    // `DRIVER_OBJECT` (integers, pointers, `None`).
    let driver = unsafe { &mut *object };
    driver.Type = IO_TYPE_DRIVER;
    driver.Size = size_of::<DRIVER_OBJECT>() as i16;
    driver.DriverName = UNICODE_STRING {
        Length: (2 * full.len()) as u16,
        MaximumLength: (2 * full.len() + 2) as u16,
        Buffer: buffer,
    };
    let mut st = inner.lock();
    let index = st.drivers.len();
    st.drivers.push(DriverRec {
        name: Arc::clone(name),
        object: Ptr(object),
        state: DriverState::Loaded,
        image: Vec::new(),
    });
    insert(&mut st, ObjectKind::Driver, block, index, 1);
    (index, object)
}

/// `IoCreateDevice`'s object: `Type` 3, `Size`, `DriverObject`, linked at the
/// head of the driver's `DeviceObject` list, `DeviceExtension` pointing to
/// `extension` zeroed bytes right after the object (NULL for 0). The device
/// holds a reference on its driver object until it is freed; `handles` host
/// handles keep its memory.
pub(crate) fn create_device_locked(
    st: &mut State,
    driver: usize,
    extension: usize,
    device_type: u32,
    handles: usize,
) -> PDEVICE_OBJECT {
    let driver_object = st.drivers[driver].object.0;
    let size = extension
        .checked_next_multiple_of(ALIGNMENT)
        .and_then(|rounded| rounded.checked_add(DEVICE_OBJECT_SIZE))
        .expect("an object larger than the address space");
    let block = allocate_zeroed(size);
    let device = block.memory.0.cast::<DEVICE_OBJECT>();
    // The block holds the object and its extension, zeroed and 16-aligned.
    // SAFETY: `device` starts the fresh block (`DEVICE_OBJECT_SIZE` bytes and
    // more), which only this call can reach until `insert`; all-zero bytes
    // are a valid `DEVICE_OBJECT` (integers and pointers).
    let fresh = unsafe { &mut *device };
    // SAFETY: the driver object is live (the caller found it in the object
    // table); `&raw mut` makes no reference.
    let head = unsafe { &raw mut (*driver_object).DeviceObject };
    fresh.Type = IO_TYPE_DEVICE;
    fresh.Size = (DEVICE_OBJECT_SIZE + extension) as u16;
    fresh.DriverObject = driver_object;
    // SAFETY: `head` is the live driver object's list head, aligned, written
    // only under the executive's lock, which the caller holds (`st`).
    fresh.NextDevice = unsafe { head.read() };
    fresh.DeviceType = device_type;
    fresh.StackSize = 1;
    if extension > 0 {
        // SAFETY: the extension starts `DEVICE_OBJECT_SIZE` bytes into the
        // block, which is that long plus the extension's rounded size.
        let at = unsafe { block.memory.0.add(DEVICE_OBJECT_SIZE) };
        fresh.DeviceExtension = at.cast::<c_void>();
    }
    // SAFETY: `head` is the live driver object's list head, aligned; the
    // executive's lock, held, serializes its writers.
    unsafe { head.write(device) };
    insert(st, ObjectKind::Device, block, driver, handles);
    if let Some(rec) = st.objects.get_mut(&driver_object.addr()) {
        rec.refs += 1;
    }
    device
}

/// The kind of a live object the executive made, if `object` is one.
pub(crate) fn kind_of(st: &State, object: usize) -> Option<ObjectKind> {
    st.objects.get(&object).map(|rec| rec.kind)
}

/// One more host handle keeps the memory of `object` (live or freed).
pub(crate) fn add_handle(st: &mut State, object: usize) {
    if let Some(rec) = st.objects.get_mut(&object) {
        rec.handles += 1;
    } else if let Some(freed) = st.freed.get_mut(&object) {
        freed.handles += 1;
    }
}

/// A host handle of `object` is gone; the memory of a freed object goes
/// with its last handle.
pub(crate) fn release_handle(st: &mut State, object: usize) {
    if let Some(rec) = st.objects.get_mut(&object) {
        rec.handles -= 1;
    } else if let Some(freed) = st.freed.get_mut(&object) {
        freed.handles -= 1;
        if freed.handles == 0
            && let Some(block) = freed.block.take()
        {
            // SAFETY: the object manager freed the object and no handle
            // names it any more; the block is taken out, so released once.
            unsafe { block.release() };
        }
    }
}

/// 0x18 REFERENCE_BY_POINTER: (0, object, 2, new count) for a dereference
/// below zero, (0, object, 0x10, new count) for a reference at zero.
fn reference_by_pointer(object: usize, reason: usize, new_count: isize) -> BugCheck {
    BugCheck::new(
        REFERENCE_BY_POINTER,
        [0, object, reason, new_count as usize],
    )
}

/// `ObfReferenceObject` (and the Io queue's reference): the new count. An
/// object whose count reached 0 is 0x18 (0, object, 0x10, 1); one the
/// executive never made is a host diagnostic.
pub(crate) fn reference_locked(
    inner: &Inner,
    st: &mut State,
    object: usize,
    export: usize,
) -> usize {
    if let Some(rec) = st.objects.get_mut(&object) {
        rec.refs += 1;
        return rec.refs;
    }
    let bad = if st.freed.contains_key(&object) {
        reference_by_pointer(object, 0x10, 1)
    } else {
        BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object, 0, 0])
    };
    inner.raise_locked(st, bad);
    0
}

/// `ObfDereferenceObject` (and the end of an Io routine): the new count. At 0
/// the object is freed: a device drops its reference on its driver object, a
/// driver object unmaps its image (the leak check runs then), and the memory
/// goes unless a host handle keeps it. Below 0 is 0x18 (0, object, 2, -1).
pub(crate) fn dereference_locked(
    inner: &Inner,
    st: &mut State,
    object: usize,
    export: usize,
) -> usize {
    let Some(rec) = st.objects.get_mut(&object) else {
        let bad = if st.freed.contains_key(&object) {
            reference_by_pointer(object, 2, -1)
        } else {
            BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object, 0, 0])
        };
        inner.raise_locked(st, bad);
        return 0;
    };
    rec.refs -= 1;
    if rec.refs > 0 {
        return rec.refs;
    }
    free_locked(inner, st, object, export);
    0
}

/// The object's pointer count reached 0.
fn free_locked(inner: &Inner, st: &mut State, object: usize, export: usize) {
    let Some(rec) = st.objects.remove(&object) else {
        return;
    };
    let (kind, driver) = (rec.kind, rec.driver);
    if kind == ObjectKind::Device {
        let driver_object = st.drivers[driver].object;
        // SAFETY: the device's memory is still here (released below); the
        // driver object is live (the device holds a reference on it); its
        // device list is written under the executive's lock.
        unsafe { unlink_device(driver_object.0, rec.block.memory.0.cast()) };
    }
    for extension in rec.extensions {
        // SAFETY: the driver object is freed, and its extensions with it.
        unsafe { extension.block.release() };
    }
    let block = if kind == ObjectKind::Device {
        retire_device(rec.block);
        None
    } else if rec.handles > 0 {
        Some(rec.block)
    } else {
        // SAFETY: freed by the object manager and named by no handle.
        unsafe { rec.block.release() };
        None
    };
    st.freed.insert(
        object,
        Freed {
            block,
            handles: rec.handles,
        },
    );
    match kind {
        ObjectKind::Device => {
            let driver_object = st.drivers[driver].object.addr();
            dereference_locked(inner, st, driver_object, export);
        }
        ObjectKind::Driver => unmap_locked(inner, st, driver),
    }
}

/// `IoDeleteDevice`: unlinks the device from its driver's list and drops the
/// creation reference; called again, it dereferences again (the
/// over-release surfaces as 0x18 when the last real holder lets go).
pub(crate) fn delete_device_locked(inner: &Inner, st: &mut State, device: usize, export: usize) {
    let Some(rec) = st.objects.get_mut(&device) else {
        let bad = if st.freed.contains_key(&device) {
            reference_by_pointer(device, 2, -1)
        } else {
            BugCheck::new(HOST_UNKNOWN_OBJECT, [export, device, 0, 0])
        };
        return inner.raise_locked(st, bad);
    };
    if rec.kind != ObjectKind::Device {
        let bad = BugCheck::new(HOST_UNKNOWN_OBJECT, [export, device, 0, 0]);
        return inner.raise_locked(st, bad);
    }
    rec.deletes += 1;
    let (memory, driver) = (rec.block.memory, rec.driver);
    let driver_object = st.drivers[driver].object.0;
    // SAFETY: both objects are live (the device holds its driver object);
    // the device list is written under the executive's lock.
    unsafe { unlink_device(driver_object, memory.0.cast()) };
    dereference_locked(inner, st, device, export);
}

/// `IoDeleteDevice` (PASSIVE_LEVEL; above it, a host diagnostic).
pub(crate) fn io_delete_device(inner: &Inner, device: usize, export: usize) {
    let mut st = inner.lock();
    if st.bug_check.is_none() && !irql_above(inner, &mut st, PASSIVE_LEVEL, device, export) {
        delete_device_locked(inner, &mut st, device, export);
    }
}

/// A host diagnostic if the caller is above `limit`, the highest IRQL the
/// function is documented for (the retail kernel does not check it).
pub(crate) fn irql_above(
    inner: &Inner,
    st: &mut State,
    limit: KIRQL,
    object: usize,
    export: usize,
) -> bool {
    let irql = current_irql();
    if irql <= limit {
        return false;
    }
    let bad = BugCheck::new(
        HOST_IRQL_TOO_HIGH,
        [export, irql.into(), object, limit.into()],
    );
    inner.raise_locked(st, bad);
    true
}

/// The driver object's last reference dropped: the image is unmapped, and
/// under Driver Verifier (Pool Tracking) the check for allocations the driver
/// did not free runs: its pool blocks and the `IO_WORKITEM`s it got from
/// `IoAllocateWorkItem` (an embedded item is part of its own pool block).
/// Without Verifier nothing is checked: the leak stays a leak.
fn unmap_locked(inner: &Inner, st: &mut State, driver: usize) {
    st.drivers[driver].state = DriverState::Unmapped;
    if !st.verifier {
        return;
    }
    let io_items = st
        .io_items
        .values()
        .filter(|rec| rec.driver == driver && rec.allocated)
        .count();
    let leaked = io_items + crate::pool::owned_by_driver(inner, driver);
    if leaked > 0 {
        let name = st.drivers[driver].name.as_ptr().addr();
        inner.raise_locked(
            st,
            BugCheck::new(DRIVER_VERIFIER_DETECTED_VIOLATION, [0x62, name, 0, leaked]),
        );
    }
}

/// `IoAllocateDriverObjectExtension` on a live driver object: `size` zeroed
/// bytes keyed by `client`, or `STATUS_OBJECT_NAME_COLLISION`'s `None` when
/// the key has one already.
pub(crate) fn allocate_driver_extension(
    st: &mut State,
    driver_object: usize,
    client: usize,
    size: usize,
) -> Option<*mut c_void> {
    let rec = st.objects.get_mut(&driver_object)?;
    if rec.extensions.iter().any(|e| e.client == client) {
        return None;
    }
    let block = allocate_zeroed(size);
    let memory = block.memory.0.cast::<c_void>();
    rec.extensions.push(DriverExtension { client, block });
    Some(memory)
}

/// `IoGetDriverObjectExtension`: the extension keyed by `client`, or NULL.
pub(crate) fn driver_extension(st: &State, driver_object: usize, client: usize) -> *mut c_void {
    st.objects
        .get(&driver_object)
        .and_then(|rec| rec.extensions.iter().find(|e| e.client == client))
        .map_or(core::ptr::null_mut(), |e| e.block.memory.0.cast())
}

/// Removes `device` from its driver object's `DeviceObject` list, if there.
///
/// # Safety
///
/// Both are live objects of this module, accessed under the executive's lock.
unsafe fn unlink_device(driver: *mut DRIVER_OBJECT, device: *mut DEVICE_OBJECT) {
    // `link` is the driver's list head, then a listed device's `NextDevice`:
    // the list links only the host's live devices (a device leaves it when
    // deleted or freed), so every link is a field of a live object.
    // SAFETY: `driver` is a live driver object (this fn's contract);
    // `&raw mut` makes no reference.
    let mut link = unsafe { &raw mut (*driver).DeviceObject };
    loop {
        // SAFETY: `link` is a field of a live object, aligned, and the list
        // is accessed under the executive's lock (this fn's contract).
        let next = unsafe { *link };
        if next.is_null() {
            return;
        }
        if next == device {
            // SAFETY: `device` is a live device object (this fn's contract).
            let after = unsafe { (*device).NextDevice };
            // SAFETY: `link` is a field of a live object, and the
            // executive's lock, held, serializes the list's writers.
            unsafe { *link = after };
            return;
        }
        // SAFETY: `next` is a listed, live device; `&raw mut` makes no
        // reference.
        link = unsafe { &raw mut (*next).NextDevice };
    }
}
