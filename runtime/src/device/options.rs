//! How a device is created, and the error a failed create hands back.

use core::fmt;

use crate::ffi::{NTSTATUS, ULONG};

/// How `IoCreateDevice` makes the device: its type and characteristics,
/// whether it is exclusive, and its name (none for a PnP functional device).
///
/// ```
/// use ntwork::DeviceOptions;
/// use ntwork::ffi::{FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN};
///
/// /// `\Device\Port0`, UTF-16.
/// const NAME: [u16; 13] = {
///     let text = *b"\\Device\\Port0";
///     let mut name = [0; 13];
///     let mut i = 0;
///     while i < 13 {
///         name[i] = text[i] as u16;
///         i += 1;
///     }
///     name
/// };
///
/// let fdo = DeviceOptions::new(FILE_DEVICE_UNKNOWN).characteristics(FILE_DEVICE_SECURE_OPEN);
/// let control = DeviceOptions::new(FILE_DEVICE_UNKNOWN).name(&NAME).exclusive(true);
/// # let _ = (fdo, control);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct DeviceOptions<'a> {
    pub(super) device_type: ULONG,
    pub(super) characteristics: ULONG,
    pub(super) exclusive: bool,
    pub(super) name: Option<&'a [u16]>,
}

impl<'a> DeviceOptions<'a> {
    /// An unnamed, non-exclusive device of `device_type` (`FILE_DEVICE_*`),
    /// no characteristics.
    pub const fn new(device_type: ULONG) -> Self {
        Self {
            device_type,
            characteristics: 0,
            exclusive: false,
            name: None,
        }
    }

    /// `DeviceCharacteristics` (`FILE_DEVICE_SECURE_OPEN`, ...).
    pub const fn characteristics(mut self, characteristics: ULONG) -> Self {
        self.characteristics = characteristics;
        self
    }

    /// `Exclusive`: one open handle at a time.
    pub const fn exclusive(mut self, exclusive: bool) -> Self {
        self.exclusive = exclusive;
        self
    }

    /// `DeviceName`, UTF-16 without a terminator (`\Device\Name`); at most
    /// 32767 characters (a `UNICODE_STRING` counts bytes in a `u16`).
    pub const fn name(mut self, name: &'a [u16]) -> Self {
        self.name = Some(name);
        self
    }
}

/// `IoCreateDevice` failed (or was not called: a name too long for a
/// `UNICODE_STRING`): its status, and what the call was given (the
/// extension, from [`Device::create`](super::Device::create); `()` from [`Device::create_with`](super::Device::create_with),
/// whose initializer never ran).
pub struct CreateDeviceError<T = ()> {
    pub(super) status: NTSTATUS,
    pub(super) given: T,
}

impl<T> CreateDeviceError<T> {
    /// The status: `IoCreateDevice`'s (`STATUS_INSUFFICIENT_RESOURCES`,
    /// `STATUS_OBJECT_NAME_COLLISION` for a name in use, ...), or
    /// `STATUS_NAME_TOO_LONG` for a name it was not given.
    pub const fn status(&self) -> NTSTATUS {
        self.status
    }

    /// What the failed call was given.
    pub fn into_inner(self) -> T {
        self.given
    }
}

impl<T> From<CreateDeviceError<T>> for NTSTATUS {
    fn from(error: CreateDeviceError<T>) -> Self {
        error.status
    }
}

impl<T> fmt::Debug for CreateDeviceError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateDeviceError")
            .field("status", &format_args!("{:#010x}", self.status as u32))
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for CreateDeviceError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IoCreateDevice failed with status {:#010x}",
            self.status as u32
        )
    }
}

impl<T> core::error::Error for CreateDeviceError<T> {}
