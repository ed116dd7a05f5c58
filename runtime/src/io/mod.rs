//! The Io path: `IoAllocateWorkItem` / `IoQueueWorkItemEx` / `IoFreeWorkItem`.
//! The queue references the item's object (a device, or the driver object)
//! until the routine has returned, and so keeps the driver image loaded.
//!
//! Each file holds both halves of one hand-off: `block` the pool block of an
//! item; `item` the role, the owned item, its lent form during the routine, and the
//! routine that lends it; `reusable` the reusable item and its routine; `raw`
//! the raw protocol (`raw::io_routine_ex`, the classic `ROUTINE`) and the one-shot
//! queue of routines that do not take their item; `routine` the
//! routines that leave their item to its owner.

mod block;
mod item;
pub(crate) mod raw;
mod reusable;
mod routine;

pub(crate) use item::queue_once;
pub use item::{IoRoutine, IoWorkItem, RunningIoWorkItem, TryQueueError};
pub(crate) use raw::queue_once_without_item;
pub use reusable::ReusableIoWorkItem;
pub use routine::IoRoutineWithoutItem;
