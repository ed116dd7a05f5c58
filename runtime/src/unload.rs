//! Unload safety as a type: ntwork's DriverUnload, and the rundowns opened for
//! it.
//!
//! The kernel keeps nothing alive for Ex work, so a driver's Ex routines must
//! all have returned before its image goes. In C that is a convention: every
//! DriverUnload must wait for every rundown. Here a [`Rundown`] counts nothing
//! until it is [opened](Rundown::open) for the driver, and opening needs
//! ntwork's DriverUnload ([`DriverObject::set_unload`]), which waits for every
//! rundown opened for the driver before it runs the driver's own unload code.
//! Forgetting the wait, counting work in a rundown nobody waits for, and
//! reopening a rundown after the unload waited for it are not expressible in
//! safe code.
//!
//! The state lives in the driver object's extension
//! (`IoAllocateDriverObjectExtension`, keyed by the address of a static of
//! ntwork's), so it goes with the driver object and each driver (each image
//! linking ntwork) has its own.

use crate::irql::{AtMostApc, AtMostDispatch, Passive, verify};
use core::ffi::c_void;
use core::fmt;
use core::ptr::{self, NonNull};

use crate::ffi;
use crate::guard::guard;
use crate::objects::DriverObject;
use crate::rundown::Rundown;
use crate::sync::Ordering;
use core::sync::atomic::{AtomicU32, Ordering as CoreOrdering, fence};

/// The key of ntwork's driver-object extension: its address identifies it.
static EXTENSION_KEY: u8 = 0;

/// Its address marks the list once the unload took it: no rundown opens after
/// that. Never read through.
static UNLOADING: u8 = 0;

fn unloading() -> *mut Rundown {
    ptr::from_ref(&UNLOADING).cast_mut().cast()
}

/// Its address ends the list once `set_unload` armed it (a list head of NULL
/// is a state not armed yet, which no rundown opens on). Never read through.
static EMPTY: u8 = 0;

fn empty() -> *mut Rundown {
    ptr::from_ref(&EMPTY).cast_mut().cast()
}

/// Whether the I/O manager has begun unloading `driver`: it sets
/// `DRVO_UNLOAD_INVOKED` before it reads and calls the DriverUnload routine.
fn unload_invoked(driver: &DriverObject) -> bool {
    let raw = driver.as_raw();
    // SAFETY: `raw` is this driver's live object (the borrow), laid out as
    // wdm.h declares it; only the field's address is taken.
    let flags = unsafe { &raw mut (*raw).Flags };
    // SAFETY: a 4-aligned `ULONG` of the live object, which the kernel
    // writes (under its I/O database lock) and ntwork only reads, with an
    // atomic load, for as long as the borrow of the object.
    let flags = unsafe { AtomicU32::from_ptr(flags) };
    flags.load(CoreOrdering::SeqCst) & ffi::DRVO_UNLOAD_INVOKED != 0
}

/// ntwork's part of the driver object: what its DriverUnload does.
///
/// # Invariants
///
/// Lives in the driver object's extension for `EXTENSION_KEY`: zeroed when
/// allocated (all zero is a valid value: no unload routine, an empty list) and
/// freed with the driver object. `unload` and `previous` are written once, by
/// the `set_unload` call that allocated the extension, before it sets the
/// driver's `DriverUnload`; they are read only by [`driver_unload`], which the
/// I/O manager calls after DriverEntry returned. `opened` is NULL until
/// `set_unload` armed it (no rundown opens then), then the head of a list of
/// `'static` rundowns linked through `Rundown::next` and ended by `empty()`,
/// or `unloading()` once the unload has taken it (or `set_unload` found the
/// unload begun: nothing would wait for the list).
#[repr(C)]
struct UnloadState {
    unload: Option<fn(&DriverObject, &mut Passive<'_>)>,
    previous: ffi::PDRIVER_UNLOAD,
    opened: crate::sync::AtomicPtr<Rundown>,
}

/// Why [`DriverObject::set_unload`] did not install ntwork's DriverUnload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetUnloadError {
    /// `IoAllocateDriverObjectExtension` found no nonpaged pool.
    InsufficientResources,
    /// ntwork's DriverUnload is installed already (`set_unload` is called
    /// once, in DriverEntry).
    AlreadySet,
    /// The I/O manager has begun unloading the driver (`DRVO_UNLOAD_INVOKED`):
    /// the DriverUnload it calls may be the one that was there before, so no
    /// rundown opens for the driver any more. (`set_unload` called late, from
    /// code that runs after the unload began: an Io routine bound to the
    /// driver object.) The routine given may still run, if the I/O manager
    /// read ntwork's.
    Unloading,
}

impl SetUnloadError {
    /// The `NTSTATUS` a C driver returns for it.
    pub const fn status(self) -> ffi::NTSTATUS {
        match self {
            SetUnloadError::InsufficientResources => ffi::STATUS_INSUFFICIENT_RESOURCES,
            SetUnloadError::AlreadySet => ffi::STATUS_OBJECT_NAME_COLLISION,
            SetUnloadError::Unloading => ffi::STATUS_DELETE_PENDING,
        }
    }
}

impl From<SetUnloadError> for ffi::NTSTATUS {
    fn from(error: SetUnloadError) -> Self {
        error.status()
    }
}

impl fmt::Display for SetUnloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SetUnloadError::InsufficientResources => {
                "out of nonpaged pool for ntwork's driver-object extension"
            }
            SetUnloadError::AlreadySet => "ntwork's DriverUnload is installed already",
            SetUnloadError::Unloading => "the I/O manager has begun unloading the driver",
        })
    }
}

impl core::error::Error for SetUnloadError {}

/// Why [`Rundown::open`] did not open the rundown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// The driver has no ntwork DriverUnload
    /// ([`DriverObject::set_unload`]), so nothing would wait for the rundown.
    NoUnload,
    /// The driver is unloading: its DriverUnload has waited for its rundowns.
    Unloading,
    /// The rundown is open for another driver object that has not unloaded.
    /// Only a host test can see this (tests that load the same driver in
    /// parallel share its statics, so they need rundowns of their own, or
    /// `--test-threads=1`): on Windows each driver image has its own.
    OtherDriver,
}

impl OpenError {
    /// The `NTSTATUS` a C driver returns for it.
    pub const fn status(self) -> ffi::NTSTATUS {
        match self {
            OpenError::NoUnload | OpenError::OtherDriver => 0xC000_0184_u32 as ffi::NTSTATUS,
            OpenError::Unloading => 0xC000_0056_u32 as ffi::NTSTATUS,
        }
    }
}

impl From<OpenError> for ffi::NTSTATUS {
    fn from(error: OpenError) -> Self {
        error.status()
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpenError::NoUnload => {
                "the driver has no ntwork DriverUnload (DriverObject::set_unload), so nothing would wait for the rundown"
            }
            OpenError::Unloading => "the driver is unloading",
            OpenError::OtherDriver => {
                "the rundown is open for another driver object that has not unloaded"
            }
        })
    }
}

impl core::error::Error for OpenError {}

fn key() -> *mut c_void {
    ptr::from_ref(&EXTENSION_KEY).cast_mut().cast()
}

/// ntwork's state of `driver`, if `set_unload` made it.
fn state_of(driver: &DriverObject) -> Option<NonNull<UnloadState>> {
    // SAFETY: `driver` is this driver's live object (a borrow of it); the
    // lookup has no other precondition (IRQL <= DISPATCH_LEVEL, which every caller's proof gives).
    let extension = unsafe { ffi::IoGetDriverObjectExtension(driver.as_raw(), key()) };
    NonNull::new(extension.cast::<UnloadState>())
}

/// The list of rundowns opened for the driver whose state this is. Only the
/// atomic list head is borrowed: `set_unload` may still be writing the other
/// fields (the extension is findable from its allocation on).
///
/// # Safety
///
/// `state` is a driver's ntwork state (the invariants of [`UnloadState`]),
/// which lives for `'a`.
unsafe fn opened_list<'a>(state: NonNull<UnloadState>) -> &'a crate::sync::AtomicPtr<Rundown> {
    // SAFETY: the field of a live state; only its address is taken.
    let field = unsafe { &raw const (*state.as_ptr()).opened };
    // SAFETY: the head is an atomic (valid zeroed, or made by `set_unload`
    // under loom), only ever accessed atomically, and lives for 'a.
    unsafe { &*field }
}

impl DriverObject {
    /// Makes ntwork's routine this driver's DriverUnload. At unload it waits
    /// for every [`Rundown`] [opened](Rundown::open) for the driver (they
    /// refuse new work from then on, for good), then calls `unload` (the
    /// driver's own unload code: delete devices, free what the routines used),
    /// then the DriverUnload that was set before, if any (a KMDF driver's
    /// framework sets one in `WdfDriverCreate`: call this after it).
    ///
    /// Call it once, in DriverEntry (`IoAllocateDriverObjectExtension`:
    /// IRQL <= `DISPATCH_LEVEL`, the proof this asks for). A driver that never
    /// calls it (and sets no DriverUnload otherwise) cannot be unloaded.
    ///
    /// # Errors
    ///
    /// [`SetUnloadError::InsufficientResources`] when the driver-object
    /// extension cannot be allocated; [`SetUnloadError::AlreadySet`] on a
    /// second call; [`SetUnloadError::Unloading`] once the I/O manager has
    /// begun unloading the driver.
    pub fn set_unload(
        &self,
        unload: fn(&DriverObject, &mut Passive<'_>),
        irql: &impl AtMostDispatch,
    ) -> Result<(), SetUnloadError> {
        verify(irql, "DriverObject::set_unload");
        if unload_invoked(self) {
            return Err(SetUnloadError::Unloading);
        }
        let mut extension: *mut c_void = ptr::null_mut();
        // SAFETY: `self` is this driver's live object; the out pointer is
        // valid for a write; the size is the state's.
        let status = unsafe {
            ffi::IoAllocateDriverObjectExtension(
                self.as_raw(),
                key(),
                size_of::<UnloadState>() as ffi::ULONG,
                &mut extension,
            )
        };
        if status == ffi::STATUS_OBJECT_NAME_COLLISION {
            return Err(SetUnloadError::AlreadySet);
        }
        let Some(allocated) =
            NonNull::new(extension.cast::<UnloadState>()).filter(|_| status == ffi::STATUS_SUCCESS)
        else {
            return Err(SetUnloadError::InsufficientResources);
        };
        let state = allocated.as_ptr();
        debug_assert!(state.is_aligned(), "pool is aligned for the state");
        let raw = self.as_raw();
        // loom's atomics are objects of the model, not bit patterns: the model
        // needs the list head made, where zeroed pool is the kernel's empty
        // list already.
        #[cfg(loom)]
        {
            // SAFETY: `state` is the extension this call allocated, sized for
            // an `UnloadState`; only the field's address is taken.
            let opened = unsafe { &raw mut (*state).opened };
            // SAFETY: a field of that fresh extension, which only this call
            // writes (the invariants).
            unsafe { opened.write(crate::sync::AtomicPtr::new(ptr::null_mut())) };
        }
        // SAFETY: `state` is the extension this call allocated, sized and
        // aligned for an `UnloadState`; only the field's address is taken.
        let unload_slot = unsafe { &raw mut (*state).unload };
        // SAFETY: a field of that extension; this call allocated it, so it
        // alone writes the field, before ntwork's routine becomes the
        // DriverUnload (the invariants).
        unsafe { unload_slot.write(Some(unload)) };
        // SAFETY: `state` is still that live extension, an `UnloadState`;
        // only the field's address is taken.
        let previous_slot = unsafe { &raw mut (*state).previous };
        // SAFETY: `raw` is this driver's live object (the borrow `self`),
        // laid out as wdm.h declares it; only the field's address is taken.
        let driver_unload_slot = unsafe { &raw mut (*raw).DriverUnload };
        // SAFETY: a field of the live driver object; the I/O manager reads it
        // only to unload the driver, after DriverEntry (where this is called)
        // has returned.
        let previous = unsafe { driver_unload_slot.read() };
        // SAFETY: a field of the fresh extension that this call alone writes,
        // before ntwork's routine becomes the DriverUnload (the invariants).
        unsafe { previous_slot.write(previous) };
        // SAFETY: a field of the live driver object, written once, here;
        // the I/O manager reads it only after it set `DRVO_UNLOAD_INVOKED`,
        // which the check below looks at after this write.
        unsafe { driver_unload_slot.write(Some(driver_unload)) };
        // The I/O manager sets the flag, then reads the routine; this wrote
        // the routine, then reads the flag: either the flag is seen here, or
        // the I/O manager calls ntwork's routine, which waits for the list.
        fence(CoreOrdering::SeqCst);
        let invoked = unload_invoked(self);
        // SAFETY: the state this call allocated, live with the driver object.
        let opened = unsafe { opened_list(allocated) };
        let armed = if invoked { unloading() } else { empty() };
        // Arms the list (or closes it for good); a failed DriverEntry's
        // `wait_for_rundowns` may have closed it already.
        match opened.compare_exchange(ptr::null_mut(), armed, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) if !invoked => Ok(()),
            _ => Err(SetUnloadError::Unloading),
        }
    }
}

impl DriverObject {
    /// Waits for every [`Rundown`] opened for this driver, for good: what
    /// ntwork's DriverUnload does first. For a DriverEntry that fails after it
    /// queued Ex work: the I/O manager then unloads the image without calling
    /// DriverUnload. IRQL <= `APC_LEVEL`; a second call does nothing.
    pub fn wait_for_rundowns(&self, irql: &impl AtMostApc) {
        verify(irql, "DriverObject::wait_for_rundowns");
        let Some(state) = state_of(self) else {
            return;
        };
        // SAFETY: the state of this driver, live while its object is (longer
        // than this borrow).
        let opened = unsafe { opened_list(state) };
        let mut next = opened.swap(unloading(), Ordering::AcqRel);
        while !next.is_null() && next != unloading() && next != empty() {
            // SAFETY: the list holds `&'static Rundown`s (`push`).
            let rundown = unsafe { &*next };
            // Work still counted after a host stop is pending work a stopped
            // executive never runs.
            let _ = rundown.drain().wait_final();
            next = rundown.next.load(Ordering::Acquire);
        }
    }
}

impl Rundown {
    /// Opens the rundown for `driver`'s Ex work: from now on it counts the
    /// items queued under it, and the driver's ntwork DriverUnload waits for
    /// them. Opening twice for the same driver does nothing; a
    /// [`never_unloads`](Rundown::never_unloads) rundown is always open.
    ///
    /// Call it in DriverEntry (or AddDevice), after
    /// [`DriverObject::set_unload`] (`IoGetDriverObjectExtension`: IRQL <=
    /// `DISPATCH_LEVEL`).
    ///
    /// # Errors
    ///
    /// [`OpenError::NoUnload`] without ntwork's DriverUnload,
    /// [`OpenError::Unloading`] once it has run.
    pub fn open(
        &'static self,
        driver: &DriverObject,
        irql: &impl AtMostDispatch,
    ) -> Result<(), OpenError> {
        verify(irql, "Rundown::open");
        if !self.is_counted() {
            return Ok(());
        }
        let state = state_of(driver).ok_or(OpenError::NoUnload)?;
        // SAFETY: the state of `driver`, live while the driver object is
        // (longer than this borrow of it).
        let opened = unsafe { opened_list(state) };
        let owner = driver.as_raw().cast::<c_void>();
        // The first opener owns it. Another driver object is refused while
        // the owner is loaded; once the owner's unload waited for it, a new
        // driver object is the image loaded again (on Windows a new image has
        // fresh statics; on the host every test loads the driver anew), and
        // it takes the rundown over, run down as a new one is.
        match self.owner.compare_exchange(
            ptr::null_mut(),
            owner,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {}
            // The owner itself, or a new driver object at the address of an
            // owner that unloaded (its memory reused: only a host test frees
            // driver objects and loads new ones in one process). The old
            // object's list was taken by its unload's wait; a new object's is
            // armed by its own `set_unload`, so it takes the rundown over.
            Err(current) if current == owner => {
                if self.drain().is_final() && opened.load(Ordering::Acquire) != unloading() {
                    // Another thread taking it over wins; the wait below
                    // then sees it open or opening.
                    let _ = self.drain().reset_final();
                }
            }
            Err(current) => {
                if !self.drain().is_final()
                    || self
                        .owner
                        .compare_exchange(current, owner, Ordering::AcqRel, Ordering::Acquire)
                        .is_err()
                    || !self.drain().reset_final()
                {
                    return Err(OpenError::OtherDriver);
                }
            }
        }
        if self.drain().open(|| push(opened, self))? {
            return Ok(());
        }
        // Opened before (or being opened by another thread: wait for it).
        self.drain().wait_while_opening();
        if self.drain().is_final() {
            return Err(OpenError::Unloading);
        }
        Ok(())
    }
}

/// Pushes `rundown` onto the driver's list, unless the unload took it.
fn push(
    head: &crate::sync::AtomicPtr<Rundown>,
    rundown: &'static Rundown,
) -> Result<(), OpenError> {
    let this = ptr::from_ref(rundown).cast_mut();
    let mut next = head.load(Ordering::Acquire);
    loop {
        if next.is_null() {
            // `set_unload` has not armed the list (yet): nothing would wait.
            return Err(OpenError::NoUnload);
        }
        if next == unloading() {
            return Err(OpenError::Unloading);
        }
        rundown.next.store(next, Ordering::Relaxed);
        match head.compare_exchange_weak(next, this, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(()),
            Err(current) => next = current,
        }
    }
}

/// ntwork's `DRIVER_UNLOAD`: waits for every rundown opened for the driver
/// (for good), then runs the driver's unload code and the DriverUnload set
/// before ntwork's.
///
/// # Safety
///
/// Called by the I/O manager, once, at `PASSIVE_LEVEL`, with the driver
/// object whose extension `set_unload` made.
unsafe extern "system" fn driver_unload(driver: ffi::PDRIVER_OBJECT) {
    // SAFETY: the I/O manager passes this driver's live object; it lives
    // until this routine returns (and its extension with it).
    let driver = unsafe { DriverObject::from_raw(driver) };
    let Some(state) = state_of(driver) else {
        return;
    };
    // SAFETY: the I/O manager calls DriverUnload at PASSIVE_LEVEL; the proof
    // lives for this call.
    let mut irql = unsafe { Passive::assume() };
    driver.wait_for_rundowns(&irql);
    let state = state.as_ptr();
    // SAFETY: `set_unload` wrote the field before it stored this routine in
    // `DriverUnload`, which the I/O manager read to call it: nothing writes
    // it any more, and the state lives until after this routine.
    let unload = unsafe { (*state).unload };
    // SAFETY: `set_unload` stored the routine that was in `DriverUnload`
    // before it put this one there; nothing writes the field any more, and
    // the state lives until after this routine.
    let previous = unsafe { (*state).previous };
    if let Some(unload) = unload {
        guard(|| unload(driver, &mut irql));
    }
    if let Some(previous) = previous {
        // SAFETY: the DriverUnload the driver (or its framework) had set,
        // called as the I/O manager would have, once, with its object.
        unsafe { previous(driver.as_raw()) };
    }
}
