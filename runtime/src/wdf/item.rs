//! The owned KMDF work item: created under a borrowed parent, which it cannot
//! outlive; deleted on drop, left to the parent, or kept by it.

use crate::irql::{AtMostDispatch, AtPassive, verify};
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::context::{Enqueued, Slot, cleanup, destroy, enqueue, slot};
use super::kept::release_kept;
use super::parent::WdfParent;
use super::running::{WdfRoutine, callback};
use crate::Routine;
use crate::ffi::wdf::{self as wdf_ffi, WDFWORKITEM};
use crate::ffi::{NTSTATUS, STATUS_SUCCESS};

/// Whether the callback runs under the parent's synchronization lock
/// (`WDF_WORKITEM_CONFIG::AutomaticSerialization`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serialization {
    /// TRUE: serialized with the parent's other callbacks; the parent's
    /// execution level must then be passive (else
    /// `STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL`).
    Automatic,
    /// FALSE: the callback takes no framework lock.
    None,
}

/// `WdfWorkItemCreate` failed: the status, and the context back.
pub struct CreateError<C> {
    /// The framework's status (e.g. `STATUS_WDF_PARENT_NOT_SPECIFIED`).
    pub status: NTSTATUS,
    /// The context that was to be stored.
    pub context: C,
}

impl<C> CreateError<C> {
    /// The framework's status.
    pub const fn status(&self) -> NTSTATUS {
        self.status
    }
}

impl<C> From<CreateError<C>> for NTSTATUS {
    fn from(error: CreateError<C>) -> Self {
        error.status
    }
}

impl<C> fmt::Debug for CreateError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateError")
            .field("status", &format_args!("{:#010x}", self.status as u32))
            .finish_non_exhaustive()
    }
}

impl<C> fmt::Display for CreateError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WdfWorkItemCreate failed with status {:#010x}",
            self.status as u32
        )
    }
}

impl<C> core::error::Error for CreateError<C> {}

/// A KMDF work item owned by the driver, under a parent borrowed for `'p`:
/// it cannot outlive that borrow, so no safe code keeps it past its parent.
/// `Drop` deletes it (`WdfObjectDelete`, which waits for a running callback);
/// its context is dropped at the framework's last reference to it.
///
/// To keep an item for the life of its parent (the C pattern of the
/// `WDFWORKITEM` in the device context), hand it to the parent:
/// [`keep_in_parent`](Self::keep_in_parent), and reach it again with
/// [`WdfWorkItemRef::kept`](super::WdfWorkItemRef::kept).
///
/// # Invariants
///
/// `handle` is a `WDFWORKITEM` created by [`create`](Self::create) for
/// routine `R` under a parent that lives for `'p`, whose context space holds
/// an initialized `Slot<R::Context>`. This value holds a reference of its own
/// on it (tag [`owner_tag`]), so its memory and context stay valid while the
/// value lives, even once the framework disposed it with its parent (which
/// releases the creation reference); `Drop` deletes it exactly once, then
/// gives that reference up.
#[must_use = "dropping a WdfWorkItem deletes it: keep it, or hand it to its parent (`keep_in_parent`, `leave_to_parent`)"]
pub struct WdfWorkItem<'p, R: Routine> {
    handle: NonNull<wdf_ffi::WDFWORKITEM__>,
    _parent: PhantomData<&'p ()>,
    _routine: PhantomData<R>,
}

// SAFETY: the handle may be used from any thread; the context is `Send`, and
// items exist only for `WdfRoutine`s, whose contexts are also `Sync`.
unsafe impl<R: Routine> Send for WdfWorkItem<'_, R> {}
// SAFETY: `&WdfWorkItem` gives `&Context` (`Sync` for every `WdfRoutine`, the
// only routines items are made for) and thread-safe framework calls.
unsafe impl<R: Routine> Sync for WdfWorkItem<'_, R> {}

impl<'p, R: Routine> WdfWorkItem<'p, R> {
    /// `WdfWorkItemCreate` under `parent`, with `context` moved into the
    /// item's context space. IRQL <= DISPATCH_LEVEL.
    ///
    /// `P` is the routine's parent type ([`WdfRoutine::Parent`]); the bound is
    /// here, not on the type, so an item made for an Ex or Io routine is one
    /// error, at this call.
    ///
    /// # Errors
    ///
    /// The framework's status, with the context back.
    pub fn create<P>(
        parent: &'p P,
        context: R::Context,
        serialization: Serialization,
        irql: &impl AtMostDispatch,
    ) -> Result<Self, CreateError<R::Context>>
    where
        R: WdfRoutine<Parent = P>,
        P: WdfParent,
    {
        verify(irql, "WdfWorkItem::create");
        const {
            assert!(
                R::CONTEXT_TYPE.size() >= size_of::<Slot<R::Context>>(),
                "the routine's context type is smaller than its context"
            );
        }
        let mut config = wdf_ffi::WDF_WORKITEM_CONFIG::init(Some(callback::<R>));
        config.AutomaticSerialization = u8::from(serialization == Serialization::Automatic);
        let mut attributes = wdf_ffi::WDF_OBJECT_ATTRIBUTES::init();
        attributes.ParentObject = parent.as_object();
        attributes.ContextTypeInfo = R::CONTEXT_TYPE.as_raw();
        attributes.EvtCleanupCallback = Some(cleanup::<R>);
        attributes.EvtDestroyCallback = Some(destroy::<R>);
        let mut handle: WDFWORKITEM = core::ptr::null_mut();
        // SAFETY: valid config, attributes and out pointer for the call; the
        // parent is live (the borrow).
        let status =
            unsafe { wdf_ffi::WdfWorkItemCreate(&mut config, &mut attributes, &mut handle) };
        let Some(handle) = NonNull::new(handle).filter(|_| status == STATUS_SUCCESS) else {
            return Err(CreateError {
                status: if status == STATUS_SUCCESS {
                    wdf_ffi::STATUS_INSUFFICIENT_RESOURCES
                } else {
                    status
                },
                context,
            });
        };
        // SAFETY: `handle` is the live item just created (this holds the
        // creation reference), and `CONTEXT_TYPE` a context type info.
        let space = unsafe {
            wdf_ffi::WdfObjectGetTypedContextWorker(
                handle.as_ptr().cast(),
                R::CONTEXT_TYPE.as_raw(),
            )
        };
        // SAFETY: the framework allocated `ContextSize` bytes for the type
        // (at least a `Slot`, asserted above), unused until this write;
        // nothing can run the callbacks before it (the item is neither
        // enqueued nor known to anyone else yet, and this holds the creation
        // reference).
        unsafe {
            space
                .cast::<Slot<R::Context>>()
                .write(Slot::new(context, parent.as_object()));
        }
        // SAFETY: the live item just created; the reference is this value's,
        // given up once, with the same tag, by `Drop` or `leave_to_parent`.
        unsafe {
            wdf_ffi::WdfObjectReferenceActual(
                handle.as_ptr().cast(),
                owner_tag(),
                0,
                core::ptr::null(),
            );
        }
        // INVARIANT: created for `R` under `parent` (alive for 'p), its slot
        // written; this value holds its own reference.
        Ok(Self {
            handle,
            _parent: PhantomData,
            _routine: PhantomData,
        })
    }
}

impl<'p, R: WdfRoutine> WdfWorkItem<'p, R> {
    /// `WdfWorkItemEnqueue`, unless the item is queued and its callback has
    /// not started: then the framework would ignore it, and this says so.
    /// IRQL <= DISPATCH_LEVEL.
    pub fn enqueue(&self, irql: &impl AtMostDispatch) -> Enqueued {
        verify(irql, "WdfWorkItem::enqueue");
        // SAFETY: by the invariants the item is live, its slot initialized.
        unsafe { enqueue::<R>(self.handle.as_ptr()) }
    }

    /// `WdfWorkItemFlush`: waits until the item is neither queued nor
    /// running. PASSIVE_LEVEL. The callback's own handle has no `flush`: from
    /// inside the callback it would wait for itself.
    pub fn flush(&self, irql: &impl AtPassive) {
        verify(irql, "WdfWorkItem::flush");
        // SAFETY: by the invariants a live item; not the callback (it has no
        // `WdfWorkItem`).
        unsafe { wdf_ffi::WdfWorkItemFlush(self.handle.as_ptr()) }
    }

    /// The context. It stays valid while this value lives, also once the
    /// framework disposed the item with its parent.
    pub fn context(&self) -> &R::Context {
        // SAFETY: by the invariants the item's memory and slot are valid
        // while this value holds its reference.
        unsafe { &slot::<R>(self.handle.as_ptr()).context }
    }

    /// The parent it was created under, for as long as it was borrowed.
    pub fn parent(&self) -> &'p R::Parent {
        // SAFETY: by the invariants the item's memory and slot are valid
        // while this value holds its reference.
        let parent = unsafe { slot::<R>(self.handle.as_ptr()) }.parent();
        // SAFETY: the parent `create` was given, borrowed for 'p (by the
        // invariants it lives for 'p), an `R::Parent`.
        unsafe { R::Parent::from_object(parent) }
    }

    /// The handle.
    pub fn as_raw(&self) -> WDFWORKITEM {
        self.handle.as_ptr()
    }

    /// Gives up ownership without deleting: the framework disposes the item
    /// (and drops its context) when it deletes the parent. To reach the item
    /// again later (from the DPC, the I/O path), use
    /// [`keep_in_parent`](Self::keep_in_parent) instead.
    pub fn leave_to_parent(self) {
        self.give_up(|_| ());
    }

    /// The one-shot item of C (`WdfWorkItemCreate`, `WdfWorkItemEnqueue`,
    /// and the callback's `WdfObjectDelete`): gives the item up to its
    /// parent, as [`leave_to_parent`](Self::leave_to_parent), then enqueues
    /// it, so its callback may [`delete`](super::RunningWdfWorkItem::delete)
    /// it. IRQL <= DISPATCH_LEVEL.
    ///
    /// Giving it up first matters: an item enqueued and then left can run
    /// (and refuse the delete, being still owned) before `leave_to_parent`.
    pub fn enqueue_and_leave(self, irql: &impl AtMostDispatch) -> Enqueued {
        verify(irql, "WdfWorkItem::enqueue_and_leave");
        // SAFETY: the reference `give_up` still holds keeps the slot the
        // enqueue reads valid, even if the framework disposed the item with
        // its parent (then it reports `Deleted`). The callback this may start
        // can delete the item (it is ownerless now); the framework's
        // reference for that callback, and ours, keep the memory until both
        // are given up.
        self.give_up(|handle| unsafe { enqueue::<R>(handle) })
    }

    /// Gives the item up to its parent for good: marks it ownerless (no
    /// `Drop` deletes it), runs `then` with its handle while this value's
    /// reference still keeps the item, then gives that reference up.
    fn give_up<T>(self, then: impl FnOnce(WDFWORKITEM) -> T) -> T {
        let this = core::mem::ManuallyDrop::new(self);
        let handle = this.handle.as_ptr();
        // SAFETY: by the invariants the item's memory and slot are valid
        // while this value holds its reference (kept until below).
        unsafe { slot::<R>(handle) }.mark_ownerless();
        let result = then(handle);
        // SAFETY: this value's reference (taken by `create` with this tag),
        // given up once, here (its `Drop` does not run); the parent (borrowed
        // for 'p) still holds the item, and the framework frees it at its
        // last reference.
        unsafe {
            wdf_ffi::WdfObjectDereferenceActual(handle.cast(), owner_tag(), 0, core::ptr::null());
        }
        result
    }

    /// Leaves the item to its parent, as [`leave_to_parent`](Self::leave_to_parent),
    /// and records it in the parent's own context space, where
    /// [`WdfWorkItemRef::kept`](super::WdfWorkItemRef::kept) finds it again
    /// through a borrow of the parent: the C pattern of the `WDFWORKITEM` kept
    /// in the device context. The parent's space holds a reference on the
    /// item until the parent is cleaned up, so the item's memory and context
    /// outlive every borrow of the parent. One item per routine per parent.
    ///
    /// # Errors
    ///
    /// The item back with the framework's status: `STATUS_OBJECT_NAME_EXISTS`
    /// if the parent keeps an item of this routine already,
    /// `STATUS_INSUFFICIENT_RESOURCES`, or `STATUS_DELETE_PENDING`.
    pub fn keep_in_parent(self, irql: &impl AtMostDispatch) -> Result<(), KeepError<'p, R>> {
        verify(irql, "WdfWorkItem::keep_in_parent");
        let handle = self.handle.as_ptr();
        // SAFETY: by the invariants the item's memory and slot are valid
        // while this value holds its reference. The parent lives for 'p (the
        // framework may have deleted it: it then refuses the context).
        let parent = unsafe { slot::<R>(handle) }.parent();
        let mut attributes = wdf_ffi::WDF_OBJECT_ATTRIBUTES::init();
        attributes.ContextTypeInfo = R::KEPT_TYPE.as_raw();
        attributes.EvtCleanupCallback = Some(release_kept::<R>);
        let mut space: *mut core::ffi::c_void = core::ptr::null_mut();
        // SAFETY: the parent, borrowed for 'p, is a valid handle; valid
        // attributes (a type, no parent) and out pointer.
        let status =
            unsafe { wdf_ffi::WdfObjectAllocateContext(parent, &mut attributes, &mut space) };
        let Some(space) = NonNull::new(space).filter(|_| status == STATUS_SUCCESS) else {
            return Err(KeepError { status, item: self });
        };
        // SAFETY: a valid item (our reference); the reference is the
        // parent's space's, released by its cleanup (`release_kept`) with the
        // same tag.
        unsafe {
            wdf_ffi::WdfObjectReferenceActual(
                handle.cast(),
                super::kept::tag::<R>(),
                0,
                core::ptr::null(),
            );
        }
        // SAFETY: the space is fresh (zeroed), sized and aligned for one
        // handle (`KEPT_TYPE`), lives while the parent does (longer than this
        // call, its child's), and is only accessed atomically.
        let slot = unsafe { super::kept::kept_slot(space) };
        // Release: a `kept` that finds the handle finds the slot `create`
        // wrote and the reference taken above.
        slot.handle
            .store(handle, core::sync::atomic::Ordering::Release);
        // INVARIANT (of `WdfWorkItemRef::kept`): from here the framework alone
        // deletes the item, with its parent, and the parent's space holds a
        // reference on it until the parent's cleanup.
        self.leave_to_parent();
        Ok(())
    }
}

impl<R: Routine> Drop for WdfWorkItem<'_, R> {
    fn drop(&mut self) {
        let handle = self.handle.as_ptr().cast();
        // SAFETY: by the invariants, deleted once, here (KMDF leaves an item
        // its parent disposed already as it is); our reference keeps its
        // memory valid for the call.
        unsafe { wdf_ffi::WdfObjectDelete(handle) }
        // SAFETY: this value's reference, given up once with its tag; the
        // destroy callback drops the context at the framework's last one.
        unsafe { wdf_ffi::WdfObjectDereferenceActual(handle, owner_tag(), 0, core::ptr::null()) }
    }
}

/// The tag of the reference a [`WdfWorkItem`] holds on its item.
fn owner_tag() -> *mut core::ffi::c_void {
    static OWNER_TAG: u8 = 0;
    core::ptr::from_ref(&OWNER_TAG).cast_mut().cast()
}

impl<R: Routine> fmt::Debug for WdfWorkItem<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WdfWorkItem").field(&self.handle).finish()
    }
}

/// [`WdfWorkItem::keep_in_parent`] failed: the framework's status, and the
/// item back, still owned.
pub struct KeepError<'p, R: Routine> {
    /// `STATUS_OBJECT_NAME_EXISTS` (the parent keeps an item of this routine
    /// already), `STATUS_INSUFFICIENT_RESOURCES` or `STATUS_DELETE_PENDING`.
    pub status: NTSTATUS,
    /// The item, unchanged.
    pub item: WdfWorkItem<'p, R>,
}

impl<R: Routine> KeepError<'_, R> {
    /// The framework's status.
    pub const fn status(&self) -> NTSTATUS {
        self.status
    }
}

impl<R: Routine> From<KeepError<'_, R>> for NTSTATUS {
    fn from(error: KeepError<'_, R>) -> Self {
        error.status
    }
}

impl<R: Routine> fmt::Debug for KeepError<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeepError")
            .field("status", &format_args!("{:#010x}", self.status as u32))
            .finish_non_exhaustive()
    }
}

impl<R: Routine> fmt::Display for KeepError<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the parent cannot keep the work item: WdfObjectAllocateContext returned {:#010x}",
            self.status as u32
        )
    }
}

impl<R: Routine> core::error::Error for KeepError<'_, R> {}
