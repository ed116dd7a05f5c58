//! The safe `WORK_QUEUE_TYPE`.

use crate::ffi;

/// Which system worker queue runs an item: a safe `WORK_QUEUE_TYPE`.
///
/// `HyperCriticalWorkQueue` is reserved for the system and has no variant, so
/// safe code cannot name it. A custom priority is checked when it is made.
///
/// ```
/// use ntwork::WorkQueue;
/// assert_eq!(WorkQueue::Delayed.as_raw(), 1);
/// assert_eq!(WorkQueue::custom_priority(9).unwrap().as_raw(), 32 + 9);
/// assert!(WorkQueue::custom_priority(32).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WorkQueue {
    /// `CriticalWorkQueue`: priority 13, for time-critical work.
    Critical,
    /// `DelayedWorkQueue`: priority 12; the queue the DDI docs tell drivers to use.
    Delayed,
    /// `NormalWorkQueue`: priority 8.
    Normal,
    /// `BackgroundWorkQueue`: priority 7.
    Background,
    /// `RealTimeWorkQueue`: priority 18.
    RealTime,
    /// `SuperCriticalWorkQueue`: priority 14.
    SuperCritical,
    /// `CustomPriorityWorkQueue + priority` (Windows 8.1 and later).
    CustomPriority(Priority),
}

/// A thread priority for [`WorkQueue::CustomPriority`], `0..=31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

impl Priority {
    /// The priority, or `None` above 31 (the kernel bug-checks on those).
    pub const fn new(priority: u8) -> Option<Self> {
        if priority <= 31 {
            Some(Self(priority))
        } else {
            None
        }
    }

    /// The priority as a number.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl WorkQueue {
    /// Every fixed queue, in `WORK_QUEUE_TYPE` order.
    pub const FIXED: [WorkQueue; 6] = [
        WorkQueue::Critical,
        WorkQueue::Delayed,
        WorkQueue::Normal,
        WorkQueue::Background,
        WorkQueue::RealTime,
        WorkQueue::SuperCritical,
    ];

    /// A custom-priority queue, or `None` if `priority` is above 31.
    pub const fn custom_priority(priority: u8) -> Option<Self> {
        match Priority::new(priority) {
            Some(p) => Some(WorkQueue::CustomPriority(p)),
            None => None,
        }
    }

    /// The `WORK_QUEUE_TYPE` value the kernel takes.
    pub const fn as_raw(self) -> ffi::WORK_QUEUE_TYPE {
        match self {
            WorkQueue::Critical => ffi::CriticalWorkQueue,
            WorkQueue::Delayed => ffi::DelayedWorkQueue,
            WorkQueue::Normal => ffi::NormalWorkQueue,
            WorkQueue::Background => ffi::BackgroundWorkQueue,
            WorkQueue::RealTime => ffi::RealTimeWorkQueue,
            WorkQueue::SuperCritical => ffi::SuperCriticalWorkQueue,
            WorkQueue::CustomPriority(p) => ffi::CustomPriorityWorkQueue + p.0 as i32,
        }
    }

    /// The safe queue for a raw value; `None` for `HyperCriticalWorkQueue` and for
    /// values the kernel rejects (`7..=31`, negative, `64` and above).
    pub const fn from_raw(raw: ffi::WORK_QUEUE_TYPE) -> Option<Self> {
        match raw {
            ffi::CriticalWorkQueue => Some(WorkQueue::Critical),
            ffi::DelayedWorkQueue => Some(WorkQueue::Delayed),
            ffi::NormalWorkQueue => Some(WorkQueue::Normal),
            ffi::BackgroundWorkQueue => Some(WorkQueue::Background),
            ffi::RealTimeWorkQueue => Some(WorkQueue::RealTime),
            ffi::SuperCriticalWorkQueue => Some(WorkQueue::SuperCritical),
            32..=63 => Some(WorkQueue::CustomPriority(Priority((raw - 32) as u8))),
            _ => None,
        }
    }
}

impl Default for WorkQueue {
    /// [`WorkQueue::Delayed`], as the `IoQueueWorkItem` documentation asks of drivers.
    fn default() -> Self {
        WorkQueue::Delayed
    }
}
