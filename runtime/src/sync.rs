//! The atomics of ntwork's concurrency protocols (reusable items' state, the
//! drain): core's, or loom's when the protocols are model-checked
//! (`--cfg loom`, see `tests/loom`). One import site, so the model checks the
//! production code itself.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
