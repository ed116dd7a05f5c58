//! Errors of the safe API. Each one hands back what the failed call was given,
//! and converts to the `NTSTATUS` a C driver would return for it, so `?` works
//! in code that returns `Result<_, NTSTATUS>`:
//!
//! | error | `NTSTATUS` |
//! |---|---|
//! | [`AllocError`], [`QueueError::InsufficientResources`] | `STATUS_INSUFFICIENT_RESOURCES` |
//! | [`QueueError::Unloading`], [`NotQueued::Unloading`] | `STATUS_DELETE_PENDING` (what `IoAcquireRemoveLock` returns once a removal waits) |
//! | [`QueueError::NotOpen`], [`NotQueued::NotOpen`] | `STATUS_INVALID_DEVICE_STATE` |
//! | [`NotQueued::AlreadyQueued`] | `STATUS_DEVICE_BUSY` |
//! | [`NotQueued::Flushing`] | `STATUS_DEVICE_NOT_READY` |
//!
//! ```
//! use ntwork::ffi::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};
//! use ntwork::{AllocError, QueueError};
//!
//! fn start(queued: Result<(), QueueError<u32>>) -> Result<(), NTSTATUS> {
//!     queued?; // QueueError -> NTSTATUS
//!     Ok(())
//! }
//! # let _ = AllocError::<()>::status;
//! # assert_eq!(
//! #     start(Err(QueueError::InsufficientResources(7))),
//! #     Err(STATUS_INSUFFICIENT_RESOURCES)
//! # );
//! ```

use core::fmt;

use crate::ffi::{
    self, NTSTATUS, STATUS_DELETE_PENDING, STATUS_DEVICE_BUSY, STATUS_DEVICE_NOT_READY,
    STATUS_INVALID_DEVICE_STATE,
};

/// A pool allocation for a work item failed (low resources).
///
/// Holds what the call was given (the context, or `()`), so nothing is lost:
/// take it back with [`AllocError::into_inner`].
pub struct AllocError<T = ()>(pub(crate) T);

impl<T> AllocError<T> {
    /// What the failed call was given.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// `STATUS_INSUFFICIENT_RESOURCES`.
    pub const fn status(&self) -> NTSTATUS {
        ffi::STATUS_INSUFFICIENT_RESOURCES
    }
}

impl<T> From<AllocError<T>> for NTSTATUS {
    fn from(error: AllocError<T>) -> Self {
        error.status()
    }
}

impl<T> fmt::Debug for AllocError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllocError")
    }
}

impl<T> fmt::Display for AllocError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("out of nonpaged pool for a work item")
    }
}

impl<T> core::error::Error for AllocError<T> {}

/// Why an Ex item was not queued. Either way the context (or the item) comes back.
#[non_exhaustive]
pub enum QueueError<T = ()> {
    /// Nonpaged pool ran out (`STATUS_INSUFFICIENT_RESOURCES` in C).
    InsufficientResources(T),
    /// The [`Rundown`](crate::Rundown) has started: the driver is unloading.
    Unloading(T),
    /// The [`Rundown`](crate::Rundown) was never opened
    /// ([`Rundown::open`](crate::Rundown::open), in DriverEntry), so no
    /// DriverUnload waits for it and it counts nothing.
    NotOpen(T),
}

impl<T> QueueError<T> {
    /// What the failed call was given.
    pub fn into_inner(self) -> T {
        match self {
            QueueError::InsufficientResources(value)
            | QueueError::Unloading(value)
            | QueueError::NotOpen(value) => value,
        }
    }

    /// The same error around another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> QueueError<U> {
        match self {
            QueueError::InsufficientResources(value) => QueueError::InsufficientResources(f(value)),
            QueueError::Unloading(value) => QueueError::Unloading(f(value)),
            QueueError::NotOpen(value) => QueueError::NotOpen(f(value)),
        }
    }

    /// The `NTSTATUS` a C driver returns for it (see the module's table).
    pub const fn status(&self) -> NTSTATUS {
        match self {
            QueueError::InsufficientResources(_) => ffi::STATUS_INSUFFICIENT_RESOURCES,
            QueueError::Unloading(_) => STATUS_DELETE_PENDING,
            QueueError::NotOpen(_) => STATUS_INVALID_DEVICE_STATE,
        }
    }
}

impl<T> From<QueueError<T>> for NTSTATUS {
    fn from(error: QueueError<T>) -> Self {
        error.status()
    }
}

impl<T> From<AllocError<T>> for QueueError<T> {
    fn from(error: AllocError<T>) -> Self {
        QueueError::InsufficientResources(error.0)
    }
}

impl<T> fmt::Debug for QueueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueueError::InsufficientResources(_) => "InsufficientResources",
            QueueError::Unloading(_) => "Unloading",
            QueueError::NotOpen(_) => "NotOpen",
        })
    }
}

impl<T> fmt::Display for QueueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueueError::InsufficientResources(_) => "out of nonpaged pool for a work item",
            QueueError::Unloading(_) => "the driver is unloading: its rundown has started",
            QueueError::NotOpen(_) => {
                "the rundown was never opened (Rundown::open in DriverEntry), so nothing waits for it"
            }
        })
    }
}

impl<T> core::error::Error for QueueError<T> {}

/// Why a reusable item was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotQueued {
    /// It is queued already and has not started running (the kernel's bug
    /// check 0xE4 subcode 1, made an error). The pending run will see the new
    /// state, so this is usually not a failure.
    AlreadyQueued,
    /// A `flush` is waiting for the item: it accepts no new work until the
    /// flush returns.
    Flushing,
    /// The driver's [`Rundown`](crate::Rundown) has started.
    Unloading,
    /// The item's [`Rundown`](crate::Rundown) was never opened
    /// ([`Rundown::open`](crate::Rundown::open)).
    NotOpen,
}

impl NotQueued {
    /// The `NTSTATUS` a C driver returns for it (see the module's table).
    pub const fn status(self) -> NTSTATUS {
        match self {
            NotQueued::AlreadyQueued => STATUS_DEVICE_BUSY,
            NotQueued::Flushing => STATUS_DEVICE_NOT_READY,
            NotQueued::Unloading => STATUS_DELETE_PENDING,
            NotQueued::NotOpen => STATUS_INVALID_DEVICE_STATE,
        }
    }
}

impl From<NotQueued> for NTSTATUS {
    fn from(reason: NotQueued) -> Self {
        reason.status()
    }
}

impl fmt::Display for NotQueued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotQueued::AlreadyQueued => "the work item is already queued",
            NotQueued::Flushing => "the work item is being flushed",
            NotQueued::Unloading => "the driver is unloading: its rundown has started",
            NotQueued::NotOpen => {
                "the rundown was never opened (Rundown::open in DriverEntry), so nothing waits for it"
            }
        })
    }
}

impl core::error::Error for NotQueued {}

/// A reusable Io item refused a context: why, and the context back.
pub struct Refused<T> {
    /// Why it was not queued.
    pub reason: NotQueued,
    /// The context that was to be passed.
    pub context: T,
}

impl<T> fmt::Debug for Refused<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refused")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for Refused<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.reason, f)
    }
}

impl<T> core::error::Error for Refused<T> {}

impl<T> Refused<T> {
    /// The `NTSTATUS` of the reason.
    pub const fn status(&self) -> NTSTATUS {
        self.reason.status()
    }
}

impl<T> From<Refused<T>> for NTSTATUS {
    fn from(refused: Refused<T>) -> Self {
        refused.status()
    }
}
