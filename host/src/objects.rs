//! The object manager's part: DRIVER_OBJECT and DEVICE_OBJECT memory laid
//! out as `wdm.h`, their pointer counts, and what happens at the last
//! reference (a device lets go of its driver object; a driver object's image
//! is unmapped and Driver Verifier's leak check runs).

use core::alloc::Layout;
use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::{DEVICE_OBJECT, DRIVER_OBJECT, PDEVICE_OBJECT, UNICODE_STRING};

use crate::bugcheck::{
    BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, HOST_UNKNOWN_OBJECT, REFERENCE_BY_POINTER,
};
use crate::state::{DriverRec, DriverState, Inner, ObjectKind, ObjectRec, Ptr, State};

/// `IO_TYPE_DRIVER`.
pub(crate) const IO_TYPE_DRIVER: i16 = 4;
/// `IO_TYPE_DEVICE`.
pub(crate) const IO_TYPE_DEVICE: i16 = 3;

/// `sizeof(DEVICE_OBJECT)` in `wdm.h` (0x150 on 64-bit, 0xB8 on 32-bit); the
/// extension follows it, as `IoCreateDevice` lays it out.
const DEVICE_OBJECT_SIZE: usize = if size_of::<usize>() == 8 { 0x150 } else { 0xB8 };
/// `MEMORY_ALLOCATION_ALIGNMENT`.
const ALIGNMENT: usize = 16;

/// Object memory the host made. Never given back: a DEVICE_OBJECT /
/// DRIVER_OBJECT pointer handed to code under test stays dereferenceable for
/// the whole process, so a use after the object manager "freed" it is a
/// diagnosed host error, not a crash.
static KEPT: crate::sync::Mutex<Vec<Ptr<u8>>> = crate::sync::Mutex::new(Vec::new());

/// Zeroed object memory of `size` bytes.
fn allocate(size: usize) -> *mut u8 {
    let layout = Layout::from_size_align(size, ALIGNMENT).unwrap_or(Layout::new::<u128>());
    // SAFETY: a layout of non-zero size.
    let memory = unsafe { std::alloc::alloc_zeroed(layout) };
    if memory.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    KEPT.lock().push(Ptr(memory));
    memory
}

/// Makes a DRIVER_OBJECT for a driver named `name`: `Type` 4, `Size`,
/// `DriverName` `\Driver\name`, no devices, no DriverUnload.
pub(crate) fn create_driver(inner: &Arc<Inner>, name: &Arc<str>) -> (usize, *mut DRIVER_OBJECT) {
    let full: Vec<u16> = "\\Driver\\"
        .encode_utf16()
        .chain(name.encode_utf16())
        .collect();
    let bytes = size_of::<DRIVER_OBJECT>() + 2 * (full.len() + 1);
    let memory = allocate(bytes);
    let object = memory.cast::<DRIVER_OBJECT>();
    // SAFETY: `memory` holds `bytes` zeroed bytes, 16-aligned: the object,
    // then the name's characters; both are written before anyone sees them.
    unsafe {
        let buffer = memory.add(size_of::<DRIVER_OBJECT>()).cast::<u16>();
        buffer.copy_from_nonoverlapping(full.as_ptr(), full.len());
        (&raw mut (*object).Type).write(IO_TYPE_DRIVER);
        (&raw mut (*object).Size).write(size_of::<DRIVER_OBJECT>() as i16);
        (&raw mut (*object).DriverName).write(UNICODE_STRING {
            Length: (2 * full.len()) as u16,
            MaximumLength: (2 * full.len() + 2) as u16,
            Buffer: buffer,
        });
    }
    let mut st = inner.lock();
    let index = st.drivers.len();
    st.drivers.push(DriverRec {
        name: Arc::clone(name),
        object: Ptr(object),
        state: DriverState::Loaded,
    });
    st.objects.insert(
        object.addr(),
        ObjectRec {
            kind: ObjectKind::Driver,
            object: Ptr(memory),
            driver: index,
            // The I/O manager's reference, dropped after DriverUnload.
            refs: 1,
            deleted: false,
        },
    );
    (index, object)
}

/// `IoCreateDevice`'s object: `Type` 3, `Size`, `DriverObject`, linked at the
/// head of the driver's `DeviceObject` list, `DeviceExtension` pointing to
/// `extension` zeroed bytes right after the object. The device holds a
/// reference on its driver object until it is freed.
pub(crate) fn create_device_locked(
    st: &mut State,
    driver: usize,
    extension: usize,
    device_type: u32,
) -> PDEVICE_OBJECT {
    let driver_object = st.drivers[driver].object.0;
    let memory = allocate(DEVICE_OBJECT_SIZE + extension.next_multiple_of(ALIGNMENT));
    let device = memory.cast::<DEVICE_OBJECT>();
    // SAFETY: `memory` holds the object and its extension, zeroed and
    // 16-aligned; the driver object is live (the host's, never freed) and its
    // device list is written under the executive's lock only.
    unsafe {
        (&raw mut (*device).Type).write(IO_TYPE_DEVICE);
        (&raw mut (*device).Size).write((DEVICE_OBJECT_SIZE + extension) as u16);
        (&raw mut (*device).DriverObject).write(driver_object);
        (&raw mut (*device).NextDevice).write((*driver_object).DeviceObject);
        (&raw mut (*device).DeviceType).write(device_type);
        (&raw mut (*device).StackSize).write(1);
        if extension > 0 {
            (&raw mut (*device).DeviceExtension).write(memory.add(DEVICE_OBJECT_SIZE).cast());
        }
        (&raw mut (*driver_object).DeviceObject).write(device);
    }
    st.objects.insert(
        device.addr(),
        ObjectRec {
            kind: ObjectKind::Device,
            object: Ptr(memory),
            driver,
            refs: 1,
            deleted: false,
        },
    );
    if let Some(rec) = st.objects.get_mut(&driver_object.addr()) {
        rec.refs += 1;
    }
    device
}

/// The kind of a live object the executive made, if `object` is one.
pub(crate) fn kind_of(st: &State, object: usize) -> Option<ObjectKind> {
    st.objects.get(&object).map(|rec| rec.kind)
}

/// The `Type` field value of an object kind (parameter 1 of 0x18 on the host).
fn type_code(kind: ObjectKind) -> usize {
    match kind {
        ObjectKind::Driver => IO_TYPE_DRIVER as usize,
        ObjectKind::Device => IO_TYPE_DEVICE as usize,
    }
}

/// `ObfReferenceObject` (and the Io queue's reference): the new count; an
/// object the executive does not know is a host diagnostic.
pub(crate) fn reference_locked(
    inner: &Inner,
    st: &mut State,
    object: usize,
    export: usize,
) -> usize {
    match st.objects.get_mut(&object) {
        Some(rec) => {
            rec.refs += 1;
            rec.refs
        }
        None => {
            let bad = BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object, 0, 0]);
            inner.raise_locked(st, bad);
            0
        }
    }
}

/// `ObfDereferenceObject` (and the end of an Io routine): the new count. At 0
/// the object is freed: a device drops its reference on its driver object, a
/// driver object unmaps its image (the pool-leak check runs then). Below 0 is
/// bug check 0x18.
pub(crate) fn dereference_locked(
    inner: &Inner,
    st: &mut State,
    object: usize,
    export: usize,
) -> usize {
    let Some(rec) = st.objects.get_mut(&object) else {
        let bad = if st.freed.contains(&object) {
            let kind = if st.drivers.iter().any(|d| d.object.addr() == object) {
                ObjectKind::Driver
            } else {
                ObjectKind::Device
            };
            BugCheck::new(REFERENCE_BY_POINTER, [type_code(kind), object, 0, 0])
        } else {
            BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object, 0, 0])
        };
        inner.raise_locked(st, bad);
        return 0;
    };
    rec.refs -= 1;
    let refs = rec.refs;
    if refs > 0 {
        return refs;
    }
    let (kind, driver, memory) = (rec.kind, rec.driver, rec.object);
    st.objects.remove(&object);
    st.freed.insert(object);
    match kind {
        ObjectKind::Device => {
            let driver_object = st.drivers[driver].object;
            // SAFETY: both objects are the host's (never given back); the
            // device list is written under the executive's lock only.
            unsafe { unlink_device(driver_object.0, memory.0.cast()) };
            dereference_locked(inner, st, driver_object.addr(), export);
        }
        ObjectKind::Driver => unmap_locked(inner, st, driver),
    }
    0
}

/// The driver object's last reference dropped: the image is unmapped, and
/// Driver Verifier's check for allocations the driver did not free runs.
fn unmap_locked(inner: &Inner, st: &mut State, driver: usize) {
    st.drivers[driver].state = DriverState::Unmapped;
    let io_items = st
        .io_items
        .values()
        .filter(|rec| rec.driver == driver)
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

/// Removes `device` from its driver object's `DeviceObject` list.
///
/// # Safety
///
/// Both are objects of this module, accessed under the executive's lock.
unsafe fn unlink_device(driver: *mut DRIVER_OBJECT, device: *mut DEVICE_OBJECT) {
    // SAFETY: the function's contract: the list links only the host's devices.
    unsafe {
        let mut link = &raw mut (*driver).DeviceObject;
        while !(*link).is_null() {
            if *link == device {
                *link = (*device).NextDevice;
                return;
            }
            link = &raw mut (**link).NextDevice;
        }
    }
}
