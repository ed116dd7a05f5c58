//! What a KMDF work item is created under: a device, or an object whose
//! parent chain leads to one (a queue), borrowed.

use core::fmt;
use core::marker::PhantomPinned;

use crate::ffi::wdf::{self as wdf_ffi, WDFOBJECT};

/// A framework object seen through its handle: zero-sized, so a reference to
/// one asserts nothing about memory; it only carries the handle's value.
#[repr(transparent)]
struct Handle(core::cell::UnsafeCell<[u8; 0]>, PhantomPinned);

macro_rules! parent_type {
    ($(#[$doc:meta])* $name:ident, $raw:ty) => {
        $(#[$doc])*
        #[repr(transparent)]
        pub struct $name(Handle);

        // SAFETY: framework handles may be used from any thread; `&Self` only
        // carries the handle value into framework calls.
        unsafe impl Sync for $name {}
        // SAFETY: the value is a framework handle, which any thread may pass
        // to framework calls; it owns nothing that is tied to a thread.
        unsafe impl Send for $name {}

        impl $name {
            /// Borrows the object behind `handle` for `'a`.
            ///
            /// # Safety
            ///
            /// `handle` is a live object of this driver, of this kind, whose
            /// memory stays valid for `'a`: it is not deleted during `'a` (the
            /// framework passed it to the callback that is running, for that
            /// call, or the driver deletes it only after `'a`). Work items
            /// created under it with this borrow cannot outlive `'a`.
            pub unsafe fn from_raw<'a>(handle: $raw) -> &'a Self {
                // SAFETY: a zero-sized type: any non-null, aligned address is
                // a valid reference; the handle is non-null by the contract.
                unsafe { &*handle.cast::<Self>() }
            }

            /// The handle.
            pub fn as_raw(&self) -> $raw {
                (self as *const Self).cast_mut().cast()
            }
        }

        impl sealed::Sealed for $name {}

        impl WdfParent for $name {
            fn as_object(&self) -> WDFOBJECT {
                self.as_raw().cast()
            }

            unsafe fn from_object<'a>(object: WDFOBJECT) -> &'a Self {
                // SAFETY: the caller guarantees an object of this kind whose
                // memory stays valid for `'a` (the framework refuses it once
                // deleted): what `from_raw` needs of a zero-sized borrow.
                unsafe { Self::from_raw(object.cast()) }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_raw()).finish()
            }
        }
    };
}

parent_type!(
    /// A `WDFDEVICE`, lent (`&WdfDevice`).
    WdfDevice,
    wdf_ffi::WDFDEVICE
);
parent_type!(
    /// A `WDFQUEUE`, lent (`&WdfQueue`).
    WdfQueue,
    wdf_ffi::WDFQUEUE
);

impl WdfDevice {
    /// Borrows the device a handle keeps (a test harness's framework device,
    /// such as the host executive's), for as long as the handle is borrowed.
    /// Items created under this borrow cannot outlive the handle.
    pub fn of(handle: &impl wdf_ffi::KeepsWdfDevice) -> &WdfDevice {
        // SAFETY: `KeepsWdfDevice` promises a non-NULL handle whose memory
        // stays valid while `handle` is borrowed, which bounds the result; a
        // device the framework has deleted meanwhile is refused by its
        // functions, not used as memory.
        unsafe { WdfDevice::from_raw(handle.wdf_device()) }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// An object a work item may have as its parent: a device, or an object whose
/// parent chain leads to one (a queue).
pub trait WdfParent: sealed::Sealed + Sync + 'static {
    /// The handle as a `WDFOBJECT`.
    fn as_object(&self) -> WDFOBJECT;

    /// Borrows the parent behind `object`.
    ///
    /// # Safety
    ///
    /// `object` is an object of this kind whose memory stays valid during
    /// `'a`: not deleted, or held by a framework reference (then the
    /// framework refuses it once it is deleted, as for a parent removed
    /// after its item's callback deleted the item).
    unsafe fn from_object<'a>(object: WDFOBJECT) -> &'a Self;
}
