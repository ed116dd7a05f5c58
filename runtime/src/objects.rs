//! Kernel objects as safe code sees them: borrowed for a call (`&DeviceObject`)
//! or counted (`ARef<DeviceObject>`), never a bare pointer that could outlive
//! the object.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::fmt;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::ptr::NonNull;

use crate::ffi;

/// Kernel memory that the kernel changes behind Rust's back (Rust-for-Linux's
/// `Opaque`): the size of the declared object, so a reference covers the
/// fields ntwork reads and writes through it (a driver object's
/// `DriverUnload`, a device's `DeviceExtension`) and a pointer derived from it
/// may access them; `UnsafeCell` lets the kernel write them behind a shared
/// reference, `MaybeUninit` asserts nothing about their bytes, and
/// `PhantomPinned` that the object never moves.
#[repr(transparent)]
struct Opaque<T>(UnsafeCell<MaybeUninit<T>>, PhantomPinned);

/// A kernel object whose lifetime the object manager counts.
///
/// # Safety
///
/// `inc_ref` must take a reference that keeps the object alive until the
/// matching `dec_ref`; the object stays valid while any reference is held.
pub unsafe trait AlwaysRefCounted {
    /// Takes one more reference (`ObfReferenceObject`).
    fn inc_ref(&self);

    /// Drops one reference (`ObfDereferenceObject`).
    ///
    /// # Safety
    ///
    /// The caller owns a reference on `object` and gives it up.
    unsafe fn dec_ref(object: NonNull<Self>);
}

/// An owned, counted reference to a kernel object: `Clone` is
/// `ObfReferenceObject`, `Drop` is `ObfDereferenceObject`.
///
/// A device deleted with `IoDeleteDevice` while an `ARef` exists lives on until
/// the last reference drops, so holding one can never be a use after free.
///
/// ```
/// use ntwork::{ARef, DeviceObject};
///
/// # let exec = ntwork_host::Executive::manual();
/// # let driver = exec.load_driver("aref.sys");
/// # let host_device = driver.create_device();
/// let device: &DeviceObject = DeviceObject::of(&host_device);
/// let kept: ARef<DeviceObject> = ARef::from(device); // ObfReferenceObject
/// assert_eq!(host_device.reference_count(), 2);
/// drop(kept);                                        // ObfDereferenceObject
/// assert_eq!(host_device.reference_count(), 1);
/// ```
///
/// # Invariants
///
/// `object` is valid, and this value owns one reference on it.
#[must_use = "dropping an ARef releases the reference it holds"]
pub struct ARef<T: AlwaysRefCounted> {
    object: NonNull<T>,
    _owns: PhantomData<T>,
}

// SAFETY: an `ARef` is a shared handle to `T`: sending it sends a `&T` and the
// right to drop a reference, which any thread may do when `T: Sync + Send`.
unsafe impl<T: AlwaysRefCounted + Sync + Send> Send for ARef<T> {}
// SAFETY: `&ARef<T>` gives only `&T`.
unsafe impl<T: AlwaysRefCounted + Sync + Send> Sync for ARef<T> {}

impl<T: AlwaysRefCounted> ARef<T> {
    /// Takes over a reference the caller owns.
    ///
    /// # Safety
    ///
    /// `object` is valid and the caller owns one reference on it, which the
    /// `ARef` will drop.
    pub unsafe fn from_raw(object: NonNull<T>) -> Self {
        // INVARIANT: `object` is valid and the caller hands over the one
        // reference it owns on it (the contract).
        Self {
            object,
            _owns: PhantomData,
        }
    }

    /// Gives up ownership of the reference without dropping it.
    pub fn into_raw(this: Self) -> NonNull<T> {
        core::mem::ManuallyDrop::new(this).object
    }
}

impl<T: AlwaysRefCounted> From<&T> for ARef<T> {
    /// Takes a new reference on a borrowed object.
    fn from(object: &T) -> Self {
        object.inc_ref();
        // SAFETY: `object` is valid (a reference) and we just took a reference.
        unsafe { Self::from_raw(NonNull::from(object)) }
    }
}

impl<T: AlwaysRefCounted> Clone for ARef<T> {
    fn clone(&self) -> Self {
        Self::from(&**self)
    }
}

impl<T: AlwaysRefCounted> Deref for ARef<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: by the invariants the object is valid while we hold a reference.
        unsafe { self.object.as_ref() }
    }
}

impl<T: AlwaysRefCounted> core::borrow::Borrow<T> for ARef<T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: AlwaysRefCounted> Drop for ARef<T> {
    fn drop(&mut self) {
        // SAFETY: by the invariants we own one reference; it is given up once.
        unsafe { T::dec_ref(self.object) }
    }
}

impl<T: AlwaysRefCounted + fmt::Debug> fmt::Debug for ARef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

macro_rules! kernel_object {
    ($(#[$doc:meta])* $name:ident, $raw:ty, $c:literal) => {
        $(#[$doc])*
        #[repr(transparent)]
        pub struct $name(Opaque<$raw>);

        // SAFETY: the kernel synchronizes its objects; ntwork only passes the
        // pointer to kernel functions callable from any thread.
        unsafe impl Send for $name {}
        // SAFETY: `&Self` exposes the object's address, for kernel calls that
        // may come from any thread; the fields ntwork reads or writes through
        // it are ones the kernel documents for this driver's use at the
        // callers' IRQL (`DriverUnload` in DriverEntry, `DeviceExtension`).
        unsafe impl Sync for $name {}

        impl $name {
            #[doc = concat!("The raw `", $c, "` pointer, for other kernel calls.")]
            pub fn as_raw(&self) -> *mut $raw {
                (self as *const Self).cast_mut().cast()
            }
        }

        // SAFETY: `ObfReferenceObject` keeps any kernel object alive until the
        // matching `ObfDereferenceObject`.
        unsafe impl AlwaysRefCounted for $name {
            fn inc_ref(&self) {
                // SAFETY: `self` is a live object (a reference to one).
                unsafe { ffi::ObfReferenceObject(self.as_raw().cast()) };
            }

            unsafe fn dec_ref(object: NonNull<Self>) {
                // SAFETY: the caller owns the reference it gives up here.
                unsafe { ffi::ObfDereferenceObject(object.as_ptr().cast()) };
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                core::ptr::eq(self, other)
            }
        }

        impl Eq for $name {}

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_raw()).finish()
            }
        }

        impl crate::objects::sealed::Sealed for $name {}
    };
}

kernel_object! {
    /// A `DEVICE_OBJECT` of this driver, as safe code sees it: only ever
    /// borrowed (`&DeviceObject`, valid for the borrow) or counted
    /// ([`ARef<DeviceObject>`](ARef)).
    ///
    /// A device routine receives `&DeviceObject` for the duration of its call;
    /// it cannot keep it. To keep the device, take a counted reference:
    /// `ARef::from(device)`.
    ///
    /// Pointers from other bindings go in with `.cast()`: `wdk-sys`
    /// (`*mut wdk_sys::DEVICE_OBJECT`) and `windows-sys`
    /// (`*mut windows_sys::Wdk::Foundation::DEVICE_OBJECT`) alike.
    ///
    /// ```
    /// use windows_sys::Wdk::Foundation::DEVICE_OBJECT;
    ///
    /// # let exec = ntwork_host::Executive::manual();
    /// # let driver = exec.load_driver("cast.sys");
    /// # let host_device = driver.create_device();
    /// // The FDO a driver declared with windows-sys created in AddDevice:
    /// let fdo: *mut DEVICE_OBJECT = host_device.as_raw().cast();
    ///
    /// // SAFETY: this driver created the device and deletes it only after
    /// // `device` is last used.
    /// let device = unsafe { ntwork::DeviceObject::from_raw(fdo.cast()) };
    /// assert_eq!(device.as_raw().cast(), fdo);
    /// ```
    DeviceObject, ffi::DEVICE_OBJECT, "DEVICE_OBJECT"
}

kernel_object! {
    /// This driver's `DRIVER_OBJECT`, as safe code sees it: borrowed
    /// (`&DriverObject`) or counted ([`ARef<DriverObject>`](ARef)).
    ///
    /// Io work items bound to the driver object (the driver role of
    /// `#[work_item]`) keep the driver image loaded until their routine has
    /// returned: the unload-safe home of deferred work that is not device-bound.
    DriverObject, ffi::DRIVER_OBJECT, "DRIVER_OBJECT"
}

impl DeviceObject {
    /// Borrows a device object from a raw pointer.
    ///
    /// # Safety
    ///
    /// `raw` is a `DEVICE_OBJECT` **created by this driver** (`IoCreateDevice`)
    /// that is not deleted (`IoDeleteDevice`) before `'a` ends, or the device
    /// object the kernel passed to the routine that is running, for no longer
    /// than that call. Work queued on a device pins the driver that owns it: the
    /// physical device object AddDevice receives belongs to the bus driver, so
    /// queueing this driver's routines on it would let this driver unload
    /// under them; use the functional device object this driver creates.
    pub unsafe fn from_raw<'a>(raw: ffi::PDEVICE_OBJECT) -> &'a DeviceObject {
        debug_assert!(!raw.is_null(), "DeviceObject::from_raw(NULL)");
        // SAFETY: the caller guarantees a live `DEVICE_OBJECT` for `'a`, which
        // the kernel allocated (aligned, at least the declared size);
        // `DeviceObject` is a transparent `Opaque` of it, whose `UnsafeCell`
        // allows the kernel's writes while the reference lives.
        unsafe { &*raw.cast::<DeviceObject>() }
    }

    /// Borrows the device object a handle keeps (a test harness's device,
    /// such as the host executive's), for as long as the handle is borrowed.
    pub fn of(handle: &impl ffi::KeepsDeviceObject) -> &DeviceObject {
        // SAFETY: `KeepsDeviceObject` promises a non-NULL object whose memory
        // stays valid while `handle` is borrowed, which bounds the result.
        unsafe { DeviceObject::from_raw(handle.device_object()) }
    }
}

impl DriverObject {
    /// Borrows this driver's driver object from a raw pointer.
    ///
    /// # Safety
    ///
    /// `raw` is **this driver's** `DRIVER_OBJECT` (the one the kernel passes
    /// to its DriverEntry, AddDevice and DriverUnload), laid out as `wdm.h`
    /// declares it, and it lives for `'a`. The I/O manager keeps it at least
    /// until DriverUnload has returned and, after that, while anything holds a
    /// reference on it: a borrow made in DriverEntry, AddDevice, a dispatch
    /// routine or DriverUnload ends before DriverUnload returns; the borrow
    /// ntwork makes for a driver-bound routine lasts its call, which the
    /// queue's reference covers; an `ARef<DriverObject>` covers its own.
    ///
    /// ntwork relies on one more thing: after
    /// [`set_unload`](Self::set_unload), nothing stores another routine in the
    /// driver's `DriverUnload` (C-style `driver->DriverUnload = ...`): ntwork's
    /// routine is what waits for the rundowns, and it calls the routine that
    /// was there before it.
    pub unsafe fn from_raw<'a>(raw: ffi::PDRIVER_OBJECT) -> &'a DriverObject {
        debug_assert!(!raw.is_null(), "DriverObject::from_raw(NULL)");
        // SAFETY: the caller guarantees this driver's live `DRIVER_OBJECT` for
        // `'a` (aligned, the declared size); `DriverObject` is a transparent
        // `Opaque` of it, whose `UnsafeCell` allows the kernel's writes while
        // the reference lives.
        unsafe { &*raw.cast::<DriverObject>() }
    }

    /// Borrows the driver object a handle keeps (a test harness's driver,
    /// such as the host executive's), for as long as the handle is borrowed.
    pub fn of(handle: &impl ffi::KeepsDriverObject) -> &DriverObject {
        // SAFETY: `KeepsDriverObject` promises a non-NULL object whose memory
        // stays valid while `handle` is borrowed, which bounds the result.
        unsafe { DriverObject::from_raw(handle.driver_object()) }
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// An object an `IO_WORKITEM` can be bound to: [`DeviceObject`] or
/// [`DriverObject`] (`IoAllocateWorkItem` / `IoInitializeWorkItem` accept both).
/// The queue references it until the routine returns.
pub trait IoObject: AlwaysRefCounted + Send + Sync + sealed::Sealed + 'static {
    /// The object as the `IoObject` parameter the kernel takes.
    fn as_io_object(&self) -> *mut c_void;

    /// Borrows the object an Io routine received.
    ///
    /// # Safety
    ///
    /// `object` is an object of `Self`'s kind that lives for `'a`, as
    /// [`DeviceObject::from_raw`] (a device of this driver, or the one passed
    /// to the running routine) or [`DriverObject::from_raw`] (this driver's
    /// object) requires.
    unsafe fn from_io_object<'a>(object: *mut c_void) -> &'a Self;
}

impl IoObject for DeviceObject {
    fn as_io_object(&self) -> *mut c_void {
        self.as_raw().cast()
    }

    unsafe fn from_io_object<'a>(object: *mut c_void) -> &'a Self {
        // SAFETY: `object` is a `DEVICE_OBJECT` that lives for `'a` as
        // `DeviceObject::from_raw` requires (this method's contract).
        unsafe { Self::from_raw(object.cast()) }
    }
}

impl IoObject for DriverObject {
    fn as_io_object(&self) -> *mut c_void {
        self.as_raw().cast()
    }

    unsafe fn from_io_object<'a>(object: *mut c_void) -> &'a Self {
        // SAFETY: `object` is this driver's `DRIVER_OBJECT`, live for `'a`, as
        // `DriverObject::from_raw` requires (this method's contract).
        unsafe { Self::from_raw(object.cast()) }
    }
}
