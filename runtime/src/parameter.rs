//! The parameter of the raw protocol: a context moved into nonpaged pool,
//! taken back once by the routine that receives it.

use core::ffi::c_void;
use core::ptr::NonNull;

use crate::error::AllocError;
use crate::pool;

/// Moves `context` into nonpaged pool; the pointer is what a generated
/// `ROUTINE` takes as its parameter.
pub fn into_parameter<C: crate::WorkContext>(context: C) -> Result<*mut c_void, AllocError<C>> {
    let Some(slot) = pool::allocate_for::<C>() else {
        return Err(AllocError(context));
    };
    // SAFETY: `slot` is a fresh allocation for one `C`.
    unsafe { slot.as_ptr().write(context) };
    Ok(slot.as_ptr().cast())
}

/// Takes back a context moved by [`into_parameter`] (a routine does this; so
/// does a caller whose item was never queued).
///
/// # Safety
///
/// `parameter` came from `into_parameter::<C>` and is taken back only once.
pub unsafe fn from_parameter<C>(parameter: *mut c_void) -> C {
    // SAFETY: `parameter` came from `into_parameter` (the contract), which
    // returns a pool block or, for a zero-sized `C`, a dangling non-null one.
    let slot = unsafe { NonNull::new_unchecked(parameter.cast::<C>()) };
    // SAFETY: `into_parameter::<C>` wrote a `C` there, and this is the one
    // call that takes it back (the contract): it is read once.
    let context = unsafe { slot.as_ptr().read() };
    // SAFETY: `slot` came from `pool::allocate_for::<C>`; its value moved out
    // above, it is not used again.
    unsafe { pool::free_for(slot) };
    context
}
