//! Nonpaged pool for work items, through the kernel's own exports
//! (`ExAllocatePool2` / `ExFreePoolWithTag`) under the driver's pool tag
//! ([`POOL_TAG`]), so a driver needs no global allocator for ntwork and
//! poolmon, `!poolused` and Driver Verifier's pool tracking attribute ntwork's
//! blocks to the driver.

use core::alloc::Layout;
use core::ptr::NonNull;

use crate::ffi;

/// The pool tag of every block ntwork allocates: `ntwk`, or the four
/// characters of `NTWORK_POOL_TAG` in the environment of the driver's build
/// (set once, e.g. in the driver's `.cargo/config.toml`: `[env]
/// NTWORK_POOL_TAG = "Mydr"`). The first character is the low byte, as
/// poolmon reads a tag; anything but four ASCII characters is a compile error.
///
/// ```
/// # if option_env!("NTWORK_POOL_TAG").is_none() {
/// assert_eq!(ntwork::POOL_TAG.to_le_bytes(), *b"ntwk");
/// # }
/// ```
pub const POOL_TAG: ffi::ULONG = match option_env!("NTWORK_POOL_TAG") {
    Some(tag) => match pool_tag(tag) {
        Ok(tag) => tag,
        Err(TagError::Length) => panic!("NTWORK_POOL_TAG must be exactly four characters"),
        Err(TagError::NotAscii) => {
            panic!("NTWORK_POOL_TAG must be printable ASCII (poolmon shows it)")
        }
    },
    None => u32::from_le_bytes(*b"ntwk"),
};

/// Why a pool tag was refused.
#[derive(Debug, PartialEq, Eq)]
enum TagError {
    Length,
    NotAscii,
}

/// The tag of four printable ASCII characters, first character low.
const fn pool_tag(tag: &str) -> Result<ffi::ULONG, TagError> {
    let bytes = tag.as_bytes();
    if bytes.len() != 4 {
        return Err(TagError::Length);
    }
    let mut i = 0;
    while i < 4 {
        if !bytes[i].is_ascii_graphic() && bytes[i] != b' ' {
            return Err(TagError::NotAscii);
        }
        i += 1;
    }
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// `MEMORY_ALLOCATION_ALIGNMENT`: what every pool block is aligned to.
const POOL_ALIGNMENT: usize = if cfg!(target_pointer_width = "64") {
    16
} else {
    8
};

/// Allocates `layout`, zeroed (`ExAllocatePool2` without
/// `POOL_FLAG_UNINITIALIZED` zeroes the block), or `None` when the pool is
/// exhausted.
///
/// A layout aligned beyond `MEMORY_ALLOCATION_ALIGNMENT` is over-allocated and
/// aligned by hand; the block's start is stored just before the aligned address.
#[inline]
pub(crate) fn allocate(layout: Layout) -> Option<NonNull<u8>> {
    if layout.size() == 0 {
        return Some(dangling(layout));
    }
    if layout.align() <= POOL_ALIGNMENT {
        // SAFETY: a plain nonpaged allocation; no preconditions beyond IRQL,
        // which the kernel checks.
        let raw =
            unsafe { ffi::ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, layout.size(), POOL_TAG) };
        return NonNull::new(raw.cast());
    }
    let header = size_of::<*mut u8>();
    let total = layout
        .size()
        .checked_add(layout.align())?
        .checked_add(header)?;
    // SAFETY: a plain nonpaged allocation of `total` bytes; its one
    // precondition, IRQL <= DISPATCH_LEVEL, the kernel checks.
    let base = unsafe { ffi::ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, total, POOL_TAG) };
    let base = NonNull::new(base.cast::<u8>())?;
    let offset =
        (base.as_ptr() as usize + header).next_multiple_of(layout.align()) - base.as_ptr() as usize;
    // SAFETY: `header <= offset < header + align`, so `base + offset` and the
    // `size` bytes after it lie inside the `total` bytes allocated at `base`.
    let aligned = unsafe { base.add(offset) };
    // SAFETY: `offset >= header`, so the word before `aligned` is still inside
    // the block (at or after `base`).
    let start_slot = unsafe { aligned.cast::<*mut u8>().sub(1) };
    // SAFETY: that word lies inside the fresh block, which only this call
    // uses; it may be unaligned for a pointer, hence `write_unaligned`.
    unsafe { start_slot.write_unaligned(base.as_ptr()) };
    Some(aligned)
}

/// Frees what [`allocate`] returned.
///
/// # Safety
///
/// `ptr` came from [`allocate`] with this `layout` and is not used again.
#[inline]
pub(crate) unsafe fn free(ptr: NonNull<u8>, layout: Layout) {
    if layout.size() == 0 {
        return;
    }
    let base = if layout.align() <= POOL_ALIGNMENT {
        ptr.as_ptr()
    } else {
        // SAFETY: `ptr` came from `allocate` with this over-aligned layout
        // (the contract), which put `ptr` at least one word past the block's
        // start, so the word before it is inside the block.
        let start_slot = unsafe { ptr.cast::<*mut u8>().sub(1) };
        // SAFETY: `allocate` wrote the block's start into that word, and the
        // block is still live (the caller has not freed it).
        unsafe { start_slot.read_unaligned() }
    };
    // SAFETY: `base` is the start of a block `ExAllocatePool2` returned with
    // `POOL_TAG`, freed only here, once (the caller does not use `ptr` again).
    unsafe { ffi::ExFreePoolWithTag(base.cast(), POOL_TAG) }
}

/// A pool allocation holding one `T`.
pub(crate) fn allocate_for<T>() -> Option<NonNull<T>> {
    allocate(Layout::new::<T>()).map(NonNull::cast)
}

/// Frees what [`allocate_for`] returned, without dropping a `T`.
///
/// # Safety
///
/// `ptr` came from [`allocate_for::<T>`](allocate_for) and is not used again.
pub(crate) unsafe fn free_for<T>(ptr: NonNull<T>) {
    // SAFETY: `ptr` came from `allocate_for::<T>`, that is from `allocate`
    // with `Layout::new::<T>()`, and is not used again (this function's
    // contract, which is `free`'s).
    unsafe { free(ptr.cast(), Layout::new::<T>()) }
}

fn dangling(layout: Layout) -> NonNull<u8> {
    // A well-aligned, never dereferenced address, as `NonNull::dangling` gives.
    NonNull::new(core::ptr::without_provenance_mut(layout.align())).unwrap_or(NonNull::dangling())
}

#[cfg(test)]
mod tests {
    use super::{TagError, pool_tag};

    #[test]
    fn a_tag_is_four_printable_characters_first_character_low() {
        assert_eq!(pool_tag("Mydr"), Ok(u32::from_le_bytes(*b"Mydr")));
        assert_eq!(pool_tag("ab  "), Ok(0x2020_6261));
        assert_eq!(pool_tag("abc"), Err(TagError::Length));
        assert_eq!(pool_tag("abcde"), Err(TagError::Length));
        assert_eq!(pool_tag("ab\u{7f}c"), Err(TagError::NotAscii));
        assert_eq!(pool_tag("ab\u{e9}"), Err(TagError::NotAscii));
    }
}
