//! The Ex path: `ExQueueWorkItem`, for work not associated with any device
//! object. The kernel keeps nothing alive for it, so every safe Ex queue is
//! counted in a [`Rundown`](crate::Rundown) that DriverUnload waits for.
//!
//! Each file holds both halves of one hand-off: `block` the one-shot block
//! (queued by `ExWorkItem` and the generated `queue`) and the routines that
//! take it back; `reusable` the reusable item and its routines; `raw` the raw
//! protocol (`initialize`, `ROUTINE`); `routine` the role's traits.

mod block;
mod item;
pub(crate) mod raw;
mod reusable;
mod routine;

pub(crate) use block::{queue_once, queue_once_counted, queue_once_uncounted};
pub use item::ExWorkItem;
pub use reusable::ReusableExWorkItem;
pub use routine::{ExRoutine, ExRoutineNeverUnloads, ExRoutineRef, ExRoutineRundown};
