//! The Windows release an executive behaves as, and what it decides: which
//! queue types exist and the priority each runs at.

use ntwork_sys::WORK_QUEUE_TYPE;

/// Thread priorities 0..=31: one FIFO list each, as in the Windows 8+ worker
/// pool's priority queue.
pub(crate) const PRIORITIES: usize = 32;

/// A Windows release the executive behaves as; it decides which queue types
/// and functions exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum WindowsVersion {
    /// Windows 7: Critical, Delayed and HyperCritical queues only; no
    /// `IoTryQueueWorkItem`, no `ExAllocatePool2`.
    Windows7,
    /// Windows 8: Normal, Background, RealTime and SuperCritical queues and
    /// `IoTryQueueWorkItem`.
    Windows8,
    /// Windows 8.1: custom priority queues (`CustomPriorityWorkQueue + p`).
    Windows81,
    /// Windows 10 (2004 and later: `ExAllocatePool2`).
    Windows10,
    /// Windows 11.
    Windows11,
}

impl WindowsVersion {
    /// `0x0601`, `0x0602`, `0x0603`, `0x0A00`, `0x0A01` (the host's number for
    /// 11, which shares 10's `_WIN32_WINNT`): parameter 2 of
    /// [`HOST_NOT_IN_TARGET`](crate::bugcheck::HOST_NOT_IN_TARGET).
    pub fn number(self) -> usize {
        match self {
            Self::Windows7 => 0x0601,
            Self::Windows8 => 0x0602,
            Self::Windows81 => 0x0603,
            Self::Windows10 => 0x0A00,
            Self::Windows11 => 0x0A01,
        }
    }
}

/// The index of a `WORK_QUEUE_TYPE` the kernel of `target` accepts: `0..=6`
/// and `32..=63` on Windows 8.1 and later; `0..=2` on Windows 7 (its
/// `MaximumWorkQueue` was 3); no custom queues before 8.1.
pub(crate) fn queue_index_on(target: WindowsVersion, queue_type: WORK_QUEUE_TYPE) -> Option<usize> {
    match queue_type {
        0..=2 => Some(queue_type as usize),
        3..=6 if target >= WindowsVersion::Windows8 => Some(queue_type as usize),
        32..=63 if target >= WindowsVersion::Windows81 => Some((queue_type - 32) as usize + 7),
        _ => None,
    }
}

/// The index of a queue type on the newest target (for the test API).
pub(crate) fn queue_index(queue_type: WORK_QUEUE_TYPE) -> Option<usize> {
    queue_index_on(WindowsVersion::Windows11, queue_type)
}

/// The thread priority of a queue's workers (the documented values: Critical
/// 13, Delayed 12, HyperCritical 15, Normal 8, Background 7, RealTime 18,
/// SuperCritical 14; custom `32 + p` runs at `p`).
pub(crate) fn priority_of(index: usize) -> usize {
    const FIXED: [usize; 7] = [13, 12, 15, 8, 7, 18, 14];
    FIXED
        .get(index)
        .copied()
        .unwrap_or_else(|| index - FIXED.len())
}
