//! The pool block of an Io item: the `IO_WORKITEM` (from `IoAllocateWorkItem`,
//! or embedded), the object it is bound to, and the context slot.

use core::alloc::Layout;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use crate::{WorkQueue, ffi, pool};

/// One pool block per Io item: the `IO_WORKITEM` (from `IoAllocateWorkItem`, or
/// embedded after the header), the object it is bound to, and the context slot.
/// The block's address is the `Context` the kernel passes back.
///
/// # Invariants
///
/// `embedded` is right from allocation on. `raw` and `object` are written
/// when an [`IoWorkItem`](crate::IoWorkItem) owns the block; a one-shot block's are written only
/// if its routine keeps it (until then the kernel passes both to the routine).
#[repr(C)]
pub(crate) struct IoBlock<C> {
    pub(crate) raw: NonNull<ffi::IO_WORKITEM>,
    pub(crate) object: *mut c_void,
    /// Whether the `IO_WORKITEM` is embedded in the block (its layout is
    /// then `embedded_layout::<Self>()`); false when it came from
    /// `IoAllocateWorkItem`. A flag, not the layout, keeps the block small.
    pub(crate) embedded: bool,
    context: MaybeUninit<C>,
}

impl<C> IoBlock<C> {
    /// A block for `object` with an unqueued `IO_WORKITEM` and an empty slot,
    /// and that item; the header written (`raw`, `object`) if `owned`.
    pub(crate) fn allocate(
        object: *mut c_void,
        embedded: bool,
        owned: bool,
    ) -> Option<(NonNull<Self>, NonNull<ffi::IO_WORKITEM>)> {
        if embedded {
            let (layout, offset) = embedded_layout::<Self>()?;
            let block = pool::allocate(layout)?;
            // SAFETY: `offset` is inside the block (`embedded_layout`).
            let raw = unsafe { block.add(offset) }.cast::<ffi::IO_WORKITEM>();
            // SAFETY: `IoSizeofWorkItem()` bytes at `raw` lie inside the block,
            // at a 16-byte aligned address, as `IoInitializeWorkItem` requires;
            // `object` is a live object of this driver (the callers' borrow).
            unsafe { ffi::IoInitializeWorkItem(object, raw.as_ptr()) };
            let block = block.cast::<Self>();
            // SAFETY: a fresh block large enough for `Self`.
            unsafe { block.as_ptr().write(Self::header(raw, object, true)) };
            return Some((block, raw));
        }
        let block = pool::allocate_for::<Self>()?;
        // SAFETY: `object` is a live device or driver object of this driver.
        let raw = unsafe { ffi::IoAllocateWorkItem(object.cast()) };
        let Some(raw) = NonNull::new(raw) else {
            // SAFETY: just allocated, holds nothing.
            unsafe { pool::free_for(block) };
            return None;
        };
        if owned {
            // SAFETY: a fresh block for one `Self`, shared with no one; `raw`
            // is the item just allocated for `object`.
            unsafe { Self::write_header(block, raw, object) };
        }
        // A zeroed block (`pool::allocate`): `embedded` is already false and
        // the slot empty.
        Some((block, raw))
    }

    /// Records the item and its object in the header, for an owner.
    ///
    /// # Safety
    ///
    /// The block is live and not shared; `raw` is its item, `object` the
    /// item's object.
    pub(crate) unsafe fn write_header(
        block: NonNull<Self>,
        raw: NonNull<ffi::IO_WORKITEM>,
        object: *mut c_void,
    ) {
        let header = block.as_ptr();
        // SAFETY: the block is live (the contract); only the field's address
        // is taken.
        let raw_slot = unsafe { &raw mut (*header).raw };
        // SAFETY: a field of a block no one else uses (the contract): written
        // in place, the context slot left alone.
        unsafe { raw_slot.write(raw) };
        // SAFETY: `header` is a live block; only the field's address is taken.
        let object_slot = unsafe { &raw mut (*header).object };
        // SAFETY: a field of the block no one else uses: written in place.
        unsafe { object_slot.write(object) };
    }

    const fn header(raw: NonNull<ffi::IO_WORKITEM>, object: *mut c_void, embedded: bool) -> Self {
        Self {
            raw,
            object,
            embedded,
            context: MaybeUninit::uninit(),
        }
    }

    /// Stores the context and queues the item `raw` with `IoQueueWorkItemEx`.
    ///
    /// # Safety
    ///
    /// The block is live, unqueued and owned by the caller, its slot empty;
    /// `raw` is its item; its object is live; `routine` takes such a block
    /// (its context and the block) back exactly once; ownership of the block
    /// passes to the queue.
    pub(crate) unsafe fn queue(
        block: NonNull<Self>,
        raw: NonNull<ffi::IO_WORKITEM>,
        routine: ffi::IO_WORKITEM_ROUTINE_EX,
        context: C,
        queue: WorkQueue,
    ) {
        let block = block.as_ptr();
        // SAFETY: the block is live and the caller's alone (the contract), so
        // its slot may be borrowed uniquely.
        let slot = unsafe { &mut (*block).context };
        slot.write(context);
        // SAFETY: `raw` is the block's unqueued item and its object is live
        // (the contract); `routine` takes the context and the block back once,
        // and the block is the queue's from here on.
        unsafe {
            ffi::IoQueueWorkItemEx(raw.as_ptr(), Some(routine), queue.as_raw(), block.cast())
        };
    }

    /// As [`queue`](Self::queue), with `IoTryQueueWorkItem`: the context comes
    /// back if the item was not queued (and the block stays the caller's).
    ///
    /// # Safety
    ///
    /// The block is live, unqueued and owned by the caller, its slot empty;
    /// `raw` is its item; its object is live; `routine` takes such a block
    /// (its context and the block) back exactly once. Ownership of the block
    /// passes to the queue only on `Ok`.
    pub(crate) unsafe fn try_queue(
        block: NonNull<Self>,
        raw: NonNull<ffi::IO_WORKITEM>,
        routine: ffi::IO_WORKITEM_ROUTINE_EX,
        context: C,
        queue: WorkQueue,
    ) -> Result<(), C> {
        let block = block.as_ptr();
        // SAFETY: the block is live and the caller's alone (the contract), so
        // its slot may be borrowed uniquely.
        let slot = unsafe { &mut (*block).context };
        slot.write(context);
        // SAFETY: `raw` is the block's unqueued item and its object is live
        // (the contract); if it is queued, `routine` takes the context and the
        // block back exactly once.
        let queued = unsafe {
            ffi::IoTryQueueWorkItem(raw.as_ptr(), Some(routine), queue.as_raw(), block.cast())
        };
        if queued == 0 {
            // SAFETY: not queued, so the context in the slot is ours again.
            return Err(unsafe { Self::take_context(block) });
        }
        Ok(())
    }

    /// Takes the context out of the slot.
    ///
    /// # Safety
    ///
    /// The block is live and its slot holds a context, read only this once.
    pub(crate) unsafe fn take_context(block: *mut Self) -> C {
        // SAFETY: the block is live (the contract); the slot is only read.
        let slot = unsafe { &(*block).context };
        // SAFETY: the slot holds a context, and this is its one read (the
        // contract).
        unsafe { slot.assume_init_read() }
    }

    /// Frees the `IO_WORKITEM` `raw` (the way it was made) and the block.
    ///
    /// # Safety
    ///
    /// The block is live, unqueued and owned by the caller, its slot empty;
    /// `raw` is its item; neither is used again.
    pub(crate) unsafe fn free(block: NonNull<Self>, raw: NonNull<ffi::IO_WORKITEM>) {
        // SAFETY: the block is live (the contract); the flag is read before
        // the block is freed.
        let embedded = unsafe { (*block.as_ptr()).embedded };
        if !embedded {
            // SAFETY: not embedded, so `raw` came from `IoAllocateWorkItem`;
            // it is unqueued and not used again (the contract).
            unsafe { ffi::IoFreeWorkItem(raw.as_ptr()) };
            // SAFETY: not embedded, so the block came from
            // `pool::allocate_for::<Self>`; its slot is empty and it is not
            // used again (the contract).
            unsafe { pool::free_for(block) };
            return;
        }
        // SAFETY: embedded, so `IoInitializeWorkItem` initialized `raw` inside
        // the block; it is unqueued and not used again (the contract).
        unsafe { ffi::IoUninitializeWorkItem(raw.as_ptr()) };
        // The layout `allocate` used: `IoSizeofWorkItem` does not change
        // while the system runs, so it is `Some` again.
        if let Some((layout, _)) = embedded_layout::<Self>() {
            // SAFETY: embedded, so the block came from `pool::allocate` with
            // this layout; its item uninitialized above, it is not used again.
            unsafe { pool::free(block.cast(), layout) };
        }
    }
}

/// The block with an embedded `IO_WORKITEM` after the header `H`, and the
/// item's offset; `None` if it would overflow.
fn embedded_layout<H>() -> Option<(Layout, usize)> {
    // SAFETY: `IoSizeofWorkItem` has no preconditions and is callable at any IRQL.
    let size = unsafe { ffi::IoSizeofWorkItem() } as usize;
    // 16 is MEMORY_ALLOCATION_ALIGNMENT on 64-bit Windows, what pool gives an IO_WORKITEM.
    let item = Layout::from_size_align(size.max(1), 16).ok()?;
    let (layout, offset) = Layout::new::<H>().extend(item).ok()?;
    Some((layout.pad_to_align(), offset))
}
