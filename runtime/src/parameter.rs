//! The parameter of the raw protocol: a context moved into nonpaged pool,
//! taken back once by the routine that receives it.

use core::ffi::c_void;
use core::ptr::NonNull;

use crate::error::AllocError;
use crate::pool;

/// Moves `context` into nonpaged pool; the pointer is what a generated
/// `ROUTINE` takes as its parameter.
pub fn into_parameter<C: Send + 'static>(context: C) -> Result<*mut c_void, AllocError<C>> {
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
    // SAFETY: see the function's contract; the pointer is non-null because
    // `into_parameter` returned it.
    unsafe {
        let slot = NonNull::new_unchecked(parameter.cast::<C>());
        let context = slot.as_ptr().read();
        pool::free_for(slot);
        context
    }
}
