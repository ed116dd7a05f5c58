//! Safe, typed Windows kernel work items.
//!
//! `#[work_item]` turns a plain function into a correctly typed
//! `extern "system"` worker routine with a typed initializer and a safe queueing
//! API, and rejects misuse at compile time: above all, a device-bound item on
//! the Ex path.
//!
//! ```
//! use ntwork::{WorkQueue, work_item};
//!
//! #[work_item]
//! fn flush_log(batch: Vec<u8>) {
//!     assert_eq!(batch, b"hello");
//! }
//!
//! let exec = ntwork::host::Executive::manual();
//! flush_log::queue(b"hello".to_vec(), WorkQueue::Delayed).unwrap();
//! assert_eq!(exec.run_until_idle(), 1);
//! ```
//!
//! The crate is `no_std` + `alloc` for drivers; the `host` feature adds the
//! [host executive](host), which runs the same code on Linux with the kernel's
//! semantics and bug checks.

#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "host")]
extern crate std;

pub mod ffi;
pub mod raw;

mod error;
mod ex;
mod io;
mod pool;
mod queue;

#[cfg(feature = "host")]
pub mod host;

#[doc(hidden)]
pub mod __private;

pub use error::{AllocError, AlreadyQueued};
pub use ex::{ExRoutine, ExRoutineRef, ExWorkItem, ReusableExWorkItem};
pub use io::{DeviceObject, IoRoutine, IoWorkItem, TryQueueError};
pub use queue::{Priority, WorkQueue};

pub use ntwork_macros::work_item;
