//! Errors of the safe API. Each one hands back what the failed call was given.

use core::fmt;

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
pub enum QueueError<T = ()> {
    /// Nonpaged pool ran out (`STATUS_INSUFFICIENT_RESOURCES` in C).
    InsufficientResources(T),
    /// The [`Rundown`](crate::Rundown) has started: the driver is unloading.
    Unloading(T),
}

impl<T> QueueError<T> {
    /// What the failed call was given.
    pub fn into_inner(self) -> T {
        match self {
            QueueError::InsufficientResources(value) | QueueError::Unloading(value) => value,
        }
    }

    /// The same error around another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> QueueError<U> {
        match self {
            QueueError::InsufficientResources(value) => QueueError::InsufficientResources(f(value)),
            QueueError::Unloading(value) => QueueError::Unloading(f(value)),
        }
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
        })
    }
}

impl<T> fmt::Display for QueueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueueError::InsufficientResources(_) => "out of nonpaged pool for a work item",
            QueueError::Unloading(_) => "the driver is unloading: its rundown has started",
        })
    }
}

impl<T> core::error::Error for QueueError<T> {}

/// Why a reusable item was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}

impl fmt::Display for NotQueued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotQueued::AlreadyQueued => "the work item is already queued",
            NotQueued::Flushing => "the work item is being flushed",
            NotQueued::Unloading => "the driver is unloading: its rundown has started",
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
