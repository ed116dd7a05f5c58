//! The kernel objects ntwork reads or writes a field of, laid out as `wdm.h`
//! declares them (`tests/ffi_layout.rs` checks them against windows-sys).

use core::ffi::c_void;

use crate::{Opaque, PDEVICE_OBJECT, PDRIVER_OBJECT, ULONG};

/// `UNICODE_STRING`: a counted UTF-16 string (lengths in bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UNICODE_STRING {
    /// Bytes in use, without a terminator.
    pub Length: u16,
    /// Bytes of `Buffer`.
    pub MaximumLength: u16,
    /// The characters.
    pub Buffer: *mut u16,
}

/// `DEVICE_OBJECT`, up to the fields ntwork reads (`DeviceExtension`); the
/// kernel's object is larger (0x150 bytes on x64), and only the kernel (or the
/// host) allocates one. Fields as in `wdm.h`.
#[repr(C)]
pub struct DEVICE_OBJECT {
    /// `IO_TYPE_DEVICE` (3).
    pub Type: i16,
    /// The object's size in bytes, extension excluded.
    pub Size: u16,
    /// Open handles (not pointer references).
    pub ReferenceCount: i32,
    /// The driver that created it.
    pub DriverObject: PDRIVER_OBJECT,
    /// The driver's next device.
    pub NextDevice: PDEVICE_OBJECT,
    /// The device attached on top of this one.
    pub AttachedDevice: PDEVICE_OBJECT,
    /// `PIRP`.
    pub CurrentIrp: *mut c_void,
    /// `PIO_TIMER`.
    pub Timer: *mut c_void,
    /// `DO_*` flags.
    pub Flags: ULONG,
    /// `FILE_*` characteristics.
    pub Characteristics: ULONG,
    /// `PVPB`.
    pub Vpb: *mut c_void,
    /// The driver-defined extension, `DeviceExtensionSize` bytes from
    /// `IoCreateDevice`, zeroed, in nonpaged memory; freed with the object.
    pub DeviceExtension: *mut c_void,
    /// `FILE_DEVICE_*`.
    pub DeviceType: ULONG,
    /// IRP stack locations.
    pub StackSize: i8,
    _rest: [u8; 0],
    _marker: Opaque,
}

/// `DRVO_UNLOAD_INVOKED` of `DRIVER_OBJECT::Flags` (`wdm.h`): the I/O manager
/// sets it before it calls the driver's DriverUnload.
pub const DRVO_UNLOAD_INVOKED: ULONG = 0x0000_0001;

/// `DRIVER_OBJECT`, as in `wdm.h`.
#[repr(C)]
pub struct DRIVER_OBJECT {
    /// `IO_TYPE_DRIVER` (4).
    pub Type: i16,
    /// `size_of::<DRIVER_OBJECT>()`.
    pub Size: i16,
    /// The first of the driver's devices.
    pub DeviceObject: PDEVICE_OBJECT,
    /// `DRVO_*` flags.
    pub Flags: ULONG,
    /// Where the image starts.
    pub DriverStart: *mut c_void,
    /// The image's size.
    pub DriverSize: ULONG,
    /// The loader's entry for the image.
    pub DriverSection: *mut c_void,
    /// `PDRIVER_EXTENSION` (AddDevice, the service key).
    pub DriverExtension: *mut c_void,
    /// `\Driver\Name`.
    pub DriverName: UNICODE_STRING,
    /// `PUNICODE_STRING`.
    pub HardwareDatabase: *mut UNICODE_STRING,
    /// `PFAST_IO_DISPATCH`.
    pub FastIoDispatch: *mut c_void,
    /// `DriverEntry`.
    pub DriverInit: *mut c_void,
    /// `PDRIVER_STARTIO`.
    pub DriverStartIo: *mut c_void,
    /// Called before the image is unloaded; NULL: the driver cannot be unloaded.
    pub DriverUnload: PDRIVER_UNLOAD,
    /// `PDRIVER_DISPATCH` per `IRP_MJ_*`.
    pub MajorFunction: [*mut c_void; 28],
}

wdk_abi! { NTAPI
    /// `DRIVER_UNLOAD`: at PASSIVE_LEVEL, before the image is unloaded
    /// (wdm.h: no convention, stdcall under `/Gz`).
    pub type DRIVER_UNLOAD = fn(DriverObject: PDRIVER_OBJECT);
}
/// `PDRIVER_UNLOAD`.
pub type PDRIVER_UNLOAD = Option<DRIVER_UNLOAD>;
