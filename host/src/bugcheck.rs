//! Bug check codes the host executive raises, named as in the kernel
//! (`bugcodes.h`), and the [`BugCheck`] value that carries one.
//!
//! Where each code and its parameters come from is documented on the constant
//! and in `docs/scenarios.md`.

use core::fmt;

/// `IRQL_NOT_LESS_OR_EQUAL` (0xA): a work-item function was called above
/// `DISPATCH_LEVEL`.
///
/// Parameters, as the debugger reference documents them: 1 the memory
/// referenced (the work item, or the device object for `IoAllocateWorkItem`),
/// 2 the IRQL at the time, 3 the access (0 read, 1 write: queueing and freeing
/// write the item), 4 the address that referenced it (here: the exported
/// function that was called).
pub const IRQL_NOT_LESS_OR_EQUAL: u32 = 0x0A;

/// `SYSTEM_THREAD_EXCEPTION_NOT_HANDLED` (0x7E): a work routine raised an
/// exception that nothing handled; on the host, a Rust panic escaped the routine.
///
/// Parameters: 1 the exception code, [`EXCEPTION_RUST_PANIC`]; 2 the address
/// where it happened (the routine); 3 and 4 the exception and context record
/// addresses, which do not exist on the host: 0.
pub const SYSTEM_THREAD_EXCEPTION_NOT_HANDLED: u32 = 0x7E;

/// `DRIVER_VERIFIER_DETECTED_VIOLATION` (0xC4). Parameter 1 is the subcode:
///
/// * `0x00` zero-byte pool allocation (IRQL, pool type 0 = NonPagedPool, 0);
/// * `0x02` nonpaged pool allocated above `DISPATCH_LEVEL` (IRQL, pool type, size);
/// * `0x10` freeing an address that no allocation returned (address, 0, 0);
///   the host also reports a double free this way;
/// * `0x30` / `0x31` bad `KeRaiseIrql` / `KeLowerIrql` (current, requested, 0);
/// * `0x62` driver unloaded with allocations not freed (driver name, 0, count).
pub const DRIVER_VERIFIER_DETECTED_VIOLATION: u32 = 0xC4;

/// `DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS` (0xCE): a driver
/// unloaded while its work was queued or running.
///
/// Parameters: 1 the memory referenced (the pending routine, which would run in
/// the unloaded image), 2 the access (8: execute, the page-fault bit field), 3
/// the address that referenced it (the same routine), 4 reserved (0).
pub const DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS: u32 = 0xCE;

/// `WORKER_THREAD_RETURNED_AT_BAD_IRQL` (0xE1): a routine returned above
/// `PASSIVE_LEVEL`.
///
/// Parameters: 1 the worker routine, 2 the IRQL it returned at, 3 the item's
/// parameter, 4 the item.
pub const WORKER_THREAD_RETURNED_AT_BAD_IRQL: u32 = 0xE1;

/// `WORKER_INVALID` (0xE4). Parameter 1 is the subcode, parameter 2 the work
/// item:
///
/// * `0` an active (queued) item was freed: start and end of the pool block;
/// * `1` an active item was queued again: queue number, 0;
/// * `2` a queued I/O work item was freed: its I/O worker routine, 0;
/// * `3` an I/O work item was made for an invalid object: the object, 0;
/// * `6` invalid queue type: queue number, 0;
/// * `7` invalid worker routine (NULL): queue number, 0.
pub const WORKER_INVALID: u32 = 0xE4;

/// The exception code [`SYSTEM_THREAD_EXCEPTION_NOT_HANDLED`] reports for a
/// Rust panic: `0xE06D7363` ("msc"), the MSVC C++ exception code that Rust's
/// unwinder raises on `*-windows-msvc`.
pub const EXCEPTION_RUST_PANIC: usize = 0xE06D_7363;

/// A bug check, as data: the code and the four parameters `KeBugCheckEx` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BugCheck {
    /// The bug check code, e.g. [`WORKER_INVALID`].
    pub code: u32,
    /// The four parameters, in the kernel's order.
    pub parameters: [usize; 4],
}

impl BugCheck {
    /// A bug check with `code` and `parameters`.
    pub const fn new(code: u32, parameters: [usize; 4]) -> Self {
        Self { code, parameters }
    }

    /// The kernel's name of the code, e.g. `"WORKER_INVALID"`.
    pub fn name(&self) -> &'static str {
        match self.code {
            IRQL_NOT_LESS_OR_EQUAL => "IRQL_NOT_LESS_OR_EQUAL",
            SYSTEM_THREAD_EXCEPTION_NOT_HANDLED => "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
            DRIVER_VERIFIER_DETECTED_VIOLATION => "DRIVER_VERIFIER_DETECTED_VIOLATION",
            DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS => {
                "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS"
            }
            WORKER_THREAD_RETURNED_AT_BAD_IRQL => "WORKER_THREAD_RETURNED_AT_BAD_IRQL",
            WORKER_INVALID => "WORKER_INVALID",
            _ => "UNKNOWN_BUG_CHECK",
        }
    }

    /// Parameter 1, which is the subcode of `0xE4` and `0xC4`.
    pub fn subcode(&self) -> usize {
        self.parameters[0]
    }
}

impl fmt::Display for BugCheck {
    /// `0xE4 WORKER_INVALID (0x1, 0x7f..., 0x1, 0x0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [p1, p2, p3, p4] = self.parameters;
        write!(
            f,
            "{:#X} {} ({p1:#x}, {p2:#x}, {p3:#x}, {p4:#x})",
            self.code,
            self.name()
        )
    }
}

impl core::error::Error for BugCheck {}
