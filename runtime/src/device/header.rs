//! The header at the start of an ntwork device extension (the table in the
//! parent module): what makes it, sizes it and finds it again.

use core::any::TypeId;
use core::ffi::c_void;

use crate::ffi;
use crate::objects::DeviceObject;
use crate::rundown::Drain;

/// `"ntwkDEV2"`: the first word of an ntwork extension (the `2` is the
/// header's layout: a new layout gets a new magic).
pub(super) const MAGIC: u64 = u64::from_le_bytes(*b"ntwkDEV2");

/// `sizeof(DEVICE_OBJECT)` in `wdm.h` (`dt nt!_DEVICE_OBJECT`: 0x150 on x64
/// and arm64, 0xB8 on x86): the object's `Size` field is this plus the
/// extension's size.
const DEVICE_OBJECT_SIZE: usize = if size_of::<usize>() == 8 { 0x150 } else { 0xB8 };

/// The start of every ntwork device extension (the module's table).
#[repr(C)]
pub(super) struct Header {
    pub(super) magic: u64,
    pub(super) this: *const Header,
    pub(super) type_id: TypeId,
    pub(super) value: *mut c_void,
    /// The `IO_WORKITEM` of the device's drop, which deletes it on a
    /// system worker thread.
    pub(super) item: ffi::PIO_WORKITEM,
    pub(super) guards: Drain,
}

pub(super) const HEADER: usize = size_of::<Header>();

/// The `DeviceExtensionSize` [`Device::create`](super::Device::create) asks for: the header, then
/// `E` at the header's end rounded up to `E`'s alignment (the extension is
/// aligned for the header; more alignment costs up to the difference).
/// `Size` is a `USHORT`, so the size is kept at least a header modulo
/// 0x10000: then the lookup's check of `Size` never refuses an ntwork device.
pub(crate) const fn extension_size<E>() -> usize {
    let slack = align_of::<E>().saturating_sub(align_of::<Header>());
    let size = HEADER + slack + size_of::<E>();
    if size % 0x1_0000 < HEADER {
        size + HEADER
    } else {
        size
    }
}

/// The ntwork header of `device`'s extension for type `E`, if it has one:
/// the object's `Size` leaves room for a header, `DeviceExtension` is
/// aligned for one, and it starts with the magic, its own address and `E`'s
/// type id.
pub(super) fn header_of<E: 'static>(device: &DeviceObject) -> Option<&Header> {
    let raw = device.as_raw();
    // SAFETY: `device` is a live `DEVICE_OBJECT` laid out as wdm.h declares
    // it (a borrow of one); `IoCreateDevice` wrote `Size` and nothing
    // writes it after.
    let size = unsafe { (*raw).Size };
    // SAFETY: `device` is a live `DEVICE_OBJECT` (a borrow of one);
    // `DeviceExtension` is written by IoCreateDevice only.
    let extension = unsafe { (*raw).DeviceExtension };
    let room = size.wrapping_sub(DEVICE_OBJECT_SIZE as u16);
    let header = extension.cast::<Header>();
    if header.is_null() || !header.is_aligned() || usize::from(room) < HEADER {
        return None;
    }
    // SAFETY: the extension has at least a header's bytes (`Size`) and is
    // aligned for one; IoCreateDevice zeroed them, and a device that ntwork
    // did not create keeps its first words still while it is asked (the
    // documented rule for raw-created devices).
    let magic = unsafe { (*header).magic };
    // SAFETY: the second word of the header's bytes, which the object's
    // `Size` covers and IoCreateDevice zeroed; a device ntwork did not
    // create keeps it still while it is asked (the documented rule).
    let this = unsafe { (*header).this };
    if magic != MAGIC || this != header.cast_const() {
        return None;
    }
    // SAFETY: the magic and the header's own address: `Device::create`
    // wrote this header, whose fixed fields are never written again and
    // whose memory lives with the object (the invariants).
    let header = unsafe { &*header };
    (header.type_id == TypeId::of::<E>()).then_some(header)
}
