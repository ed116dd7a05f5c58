//! The extension reached from a borrowed device object: a guard that the
//! device's delete waits for.

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

use super::header::{Header, header_of};
use crate::held;
use crate::irql::{AtMostDispatch, verify};
use crate::objects::DeviceObject;

/// What a device's extension must be: `Send + Sync + 'static`, because the
/// device's DPCs, dispatch routines and work-item routines use it on other
/// threads, for as long as the device lives. Every such type is one; the trait
/// makes an extension that is not one error, at the call that makes the
/// device (or looks the extension up), that says why and names the fix.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a device extension: the device's DPCs and routines share it between threads",
    label = "not `Send + Sync`",
    note = "keep what the DPC and the routines change in atomics or a `SpinLock`, not a `Cell` or `RefCell`; a raw pointer (a register block, a buffer from C) goes in a newtype that implements `Send` and `Sync`, with a `// SAFETY:` comment saying why every thread may use it"
)]
pub trait DeviceExtension: Send + Sync + 'static {}

impl<E: Send + Sync + 'static> DeviceExtension for E {}

impl DeviceObject {
    /// The extension of type `E` that [`Device::create`](super::Device::create) gave this device,
    /// held for the guard's life: the delete waits for the guard. `None`
    /// once the delete started (or before `create_with`'s initializer
    /// returned), and for a device without an ntwork extension of type `E`.
    /// IRQL <= `DISPATCH_LEVEL` (a routine, a DPC, a dispatch routine).
    ///
    /// An ntwork extension is recognized by its header: the object's `Size`
    /// leaves room for one, and it starts with ntwork's magic, the header's
    /// own address and `TypeId::of::<E>()`; a device `IoCreateDevice`
    /// made directly has a zeroed extension, which never matches. A device
    /// the driver created itself must not put ntwork's magic followed by
    /// the extension's own address at the start of its extension, nor
    /// write those first words while another thread may ask for its
    /// extension (the read would race with the write).
    ///
    /// Hold the guard briefly: the delete (at remove or unload) waits for it,
    /// and the thread that holds it must not delete the device. A guard that
    /// is never dropped (`mem::forget`) makes the delete wait forever, as a
    /// rundown acquisition never released does in C: safe, but a hang.
    pub fn extension<E: DeviceExtension>(
        &self,
        irql: &impl AtMostDispatch,
    ) -> Option<ExtensionRef<'_, E>> {
        verify(irql, "DeviceObject::extension");
        let header = header_of::<E>(self)?;
        if !header.guards.acquire() {
            return None;
        }
        held::guard_taken(held::address_of(&header.guards));
        Some(ExtensionRef {
            header,
            // SAFETY: `value` of an ntwork header is inside the extension.
            value: unsafe { NonNull::new_unchecked(header.value.cast()) },
            _not_send: PhantomData,
        })
    }
}

/// A device's extension `E`, held: the device's delete waits until the guard
/// drops, so `&E` stays valid for its life. From [`DeviceObject::extension`].
///
/// The guard stays on its thread (not `Send`), where the host can tell a
/// thread that holds one and deletes the device.
///
/// # Invariants
///
/// `header` is an ntwork header (of an extension of type `E` at `value`) on
/// whose guards this value holds one acquisition.
#[must_use = "the guard holds the extension; dropping it at once makes the call useless"]
pub struct ExtensionRef<'a, E> {
    header: &'a Header,
    value: NonNull<E>,
    /// `&'a E` for variance, and a raw pointer: not `Send`.
    _not_send: PhantomData<(&'a E, *const ())>,
}

// SAFETY: `&ExtensionRef` gives `&E` only, which `E: Sync` lets any thread
// use.
unsafe impl<E: Sync> Sync for ExtensionRef<'_, E> {}

impl<E> Deref for ExtensionRef<'_, E> {
    type Target = E;

    fn deref(&self) -> &E {
        // SAFETY: `E` stays initialized while the guards are held (the
        // module's invariants), and this guard holds them (its invariants).
        unsafe { self.value.as_ref() }
    }
}

impl<E> Drop for ExtensionRef<'_, E> {
    fn drop(&mut self) {
        held::guard_released(held::address_of(&self.header.guards));
        // SAFETY: this guard's one acquisition (the invariants), given up once.
        unsafe { self.header.guards.release() };
    }
}

impl<E: fmt::Debug> fmt::Debug for ExtensionRef<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ExtensionRef").field(&**self).finish()
    }
}

impl<'a, E> ExtensionRef<'a, E> {
    /// Keeps the guard past the borrow of the device and on any thread: the
    /// remove lock of C (`IoAcquireRemoveLock` taken for an IRP, released in
    /// its completion routine or in the work item that finishes it). The
    /// device's delete waits until the [`HeldExtension`] drops; a driver
    /// whose remove must not wait for ever drops every one it handed out.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use ntwork::ffi::FILE_DEVICE_UNKNOWN;
    /// use ntwork::irql::{Dispatch, Passive};
    /// use ntwork::{Device, DeviceObject, DeviceOptions, HeldExtension, WorkQueue, work_item};
    ///
    /// struct Disk {
    ///     finished: AtomicU32,
    /// }
    ///
    /// /// Finishes a request at PASSIVE_LEVEL; the remove waits for it.
    /// #[work_item(device)]
    /// fn finish(device: &DeviceObject, disk: HeldExtension<Disk>) {
    ///     let _ = device;
    ///     disk.finished.fetch_add(1, Ordering::SeqCst);
    /// } // the remove lock is released here
    ///
    /// /// A completion routine, at DISPATCH_LEVEL: it holds the extension for
    /// /// the work it hands on.
    /// fn complete(device: &DeviceObject, irql: &Dispatch<'_>) {
    ///     if let Some(disk) = device.extension::<Disk>(irql) {
    ///         let _ = finish::queue(device, disk.into_held(), WorkQueue::Delayed, irql);
    ///     } // else the remove has started: no new work
    /// }
    ///
    /// # let exec = ntwork_host::Executive::manual();
    /// # let host_driver = exec.load_driver("disk.sys");
    /// # let driver = ntwork::DriverObject::of(&host_driver);
    /// let irql = Passive::on_host();
    /// let disk = Disk { finished: AtomicU32::new(0) };
    /// let device = Device::create(driver, disk, DeviceOptions::new(FILE_DEVICE_UNKNOWN), &irql)?;
    /// ntwork_host::at_dispatch_level(|| complete(device.object(), &Dispatch::on_host()));
    /// # assert_eq!(exec.run_until_idle(), 1);
    /// # assert_eq!(device.extension().finished.load(Ordering::SeqCst), 1);
    /// // IRP_MN_REMOVE_DEVICE: waits for every HeldExtension, then deletes.
    /// device.delete(&irql);
    /// # Ok::<(), ntwork::ffi::NTSTATUS>(())
    /// ```
    pub fn into_held(self) -> HeldExtension<E> {
        let this = core::mem::ManuallyDrop::new(self);
        // The guard leaves this thread's list: it may be dropped on another.
        held::guard_released(held::address_of(&this.header.guards));
        // INVARIANT: the acquisition `this` held, handed on (its `Drop` does
        // not run).
        HeldExtension {
            header: NonNull::from(this.header),
            value: this.value,
        }
    }
}

/// A device's extension `E`, held on any thread until it drops: the device's
/// delete waits for it, as `IoReleaseRemoveLockAndWait` waits for the remove
/// lock. From [`ExtensionRef::into_held`]; `Send`, so it can travel with a
/// request to a completion routine or a work item.
///
/// Unlike an [`ExtensionRef`], the host cannot tell which thread holds it: a
/// thread that holds one and deletes the device waits for itself, as in C.
///
/// # Invariants
///
/// `header` is an ntwork header (of an extension of type `E` at `value`) on
/// whose guards this value holds one acquisition, so the header and `E` stay
/// valid until it is given up.
#[must_use = "the guard holds the extension; dropping it at once makes the call useless"]
pub struct HeldExtension<E> {
    header: NonNull<Header>,
    value: NonNull<E>,
}

// SAFETY: the value lends `&E` only (`E: Sync` lets any thread use it), and
// its release is the rundown's, which any thread may make.
unsafe impl<E: Sync> Send for HeldExtension<E> {}
// SAFETY: `&HeldExtension` gives `&E` only, which `E: Sync` lets any thread
// use.
unsafe impl<E: Sync> Sync for HeldExtension<E> {}

impl<E> Deref for HeldExtension<E> {
    type Target = E;

    fn deref(&self) -> &E {
        // SAFETY: `E` stays initialized while the guards are held (the
        // module's invariants), and this value holds them (its invariants).
        unsafe { self.value.as_ref() }
    }
}

impl<E> Drop for HeldExtension<E> {
    fn drop(&mut self) {
        // SAFETY: the header is valid while this value holds its acquisition
        // (the invariants), which is not given up before the next line.
        let header = unsafe { self.header.as_ref() };
        // SAFETY: this value's one acquisition (the invariants), given up
        // once, here; nothing is read after it (the delete may free the
        // device then).
        unsafe { header.guards.release() };
    }
}

impl<E: fmt::Debug> fmt::Debug for HeldExtension<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HeldExtension").field(&**self).finish()
    }
}
