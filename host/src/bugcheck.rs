//! Bug check codes the host executive raises, named as in the kernel
//! (`bugcodes.h`), and the [`BugCheck`] value that carries one.
//!
//! Where each code and its parameters come from is documented on the constant
//! and in `docs/scenarios.md`.

use core::fmt;

/// `APC_INDEX_MISMATCH` (0x01): a work routine returned inside a critical
/// region (`KeEnterCriticalRegion` without `KeLeaveCriticalRegion`).
///
/// Parameters: 1 the routine, 2 the thread's APC state index (0 on the
/// host: never attached), 3 `CombinedApcDisable` as a ULONG
/// (`(SpecialApcDisable << 16) | (KernelApcDisable as u16)`: one open
/// critical region reads 0xFFFF), 4 1 when the worker checks after an Ex
/// routine, 0 when the Io dispatcher (`IopProcessWorkItem`) checks right
/// after a driver's Io routine (parameter 1 is then that routine).
pub const APC_INDEX_MISMATCH: u32 = 0x01;

/// `REFERENCE_BY_POINTER` (0x18): an object's pointer count went wrong.
///
/// Parameters: `ObfDereferenceObject` below zero: (0, object, 2, new count
/// -1); `ObfReferenceObject` on an object whose count reached 0: (0,
/// object, 0x10, new count).
pub const REFERENCE_BY_POINTER: u32 = 0x18;

/// `BAD_POOL_CALLER` (0xC2): a pool call the pool rejects. Subcode 0 from
/// `ExFreeHeapPool`: no heap owns the address freed (0, 0, address, 0).
pub const BAD_POOL_CALLER: u32 = 0xC2;

/// `KERNEL_MODE_HEAP_CORRUPTION` (0x13A): the segment heap under the pool
/// found a corruption. Parameters: 1 the type (0xF: an operation, such as a
/// free, that is illegal on a free block: a double free), 2 the heap (0 on
/// the host, which has none), 3 the address, 4 reserved.
pub const KERNEL_MODE_HEAP_CORRUPTION: u32 = 0x13A;

/// `DRIVER_VERIFIER_DETECTED_VIOLATION` (0xC4). Parameter 1 is the subcode:
///
/// * `0x00` zero-byte pool allocation (IRQL, pool type, 0);
/// * `0x01` paged pool allocated above `APC_LEVEL` (IRQL, pool type, size);
/// * `0x02` nonpaged pool allocated above `DISPATCH_LEVEL` (IRQL, pool type,
///   size; `NonPagedPoolNx` is 0x200);
/// * `0x10` freeing an address that no allocation returned (address, 0, 0);
///   the host also reports a double free this way under Verifier;
/// * `0x30` / `0x31` bad `KeRaiseIrql` / `KeLowerIrql` (current, requested, 0);
/// * `0x62` driver unloaded with allocations not freed (driver name, 0, count).
pub const DRIVER_VERIFIER_DETECTED_VIOLATION: u32 = 0xC4;

/// `WDF_VIOLATION` (0x10D): KMDF found a driver error. Parameter 1 is the
/// subcode (`wdfbugcodes.h`): 4 `WDF_REQUIRED_PARAMETER_IS_NULL` (0, the
/// caller's return address, globals; the host gives the WDF function's
/// address instead of the return address), 5 `WDF_INVALID_HANDLE` (the
/// handle, the type the function expected (`FX_TYPE_*`, 0x1000 any object,
/// 0x1025 a work item), globals). Parameter 4 is the driver's
/// `WdfDriverGlobals`.
pub const WDF_VIOLATION: u32 = 0x10D;

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

/// The first code of the host's own diagnostics: `0x4E57_0000` ("NW"), a
/// range no Windows bug check uses. A [`BugCheck`] in this range reports a
/// mistake Windows does not diagnose at that point (it corrupts memory,
/// hangs, or bug-checks later with a code the host cannot predict), or a
/// limit of the host; [`BugCheck::is_host_diagnostic`] says so, its name
/// starts with `HOST_`, and [`BugCheck::what_windows_does`] says what
/// Windows does instead. The table of all of them is in `docs/scenarios.md`.
pub const HOST_DIAGNOSTIC_BASE: u32 = 0x4E57_0000;

/// Host diagnostic: a Rust panic escaped a routine's body (ntwork's guard
/// caught it). Windows has no bug check for this; a driver built with
/// `panic = "abort"` runs its panic handler, which bug-checks with a code of
/// its own. Parameters: 1 the routine, 2-4 0.
pub const HOST_RUST_PANIC: u32 = HOST_DIAGNOSTIC_BASE + 1;

/// Host diagnostic: a work-item function called above `DISPATCH_LEVEL`. The
/// retail kernel documents the limit but does not check it at the call.
/// Parameters: 1 the exported function, 2 the IRQL, 3 the item or object
/// passed, 4 0.
pub const HOST_IRQL_ABOVE_DISPATCH: u32 = HOST_DIAGNOSTIC_BASE + 2;

/// Host diagnostic: an `IO_WORKITEM` the executive does not know (never
/// allocated or initialized, or freed / uninitialized already) was queued,
/// freed or uninitialized. Windows would use the memory as it finds it.
/// Parameters: 1 the exported function, 2 the item, 3-4 0.
pub const HOST_UNKNOWN_IO_WORKITEM: u32 = HOST_DIAGNOSTIC_BASE + 3;

/// Host diagnostic: `IoInitializeWorkItem` on an item that is queued
/// (Windows corrupts its queue). Parameters: 1 the item, 2 the object, 3-4 0.
pub const HOST_REINITIALIZED_QUEUED_ITEM: u32 = HOST_DIAGNOSTIC_BASE + 4;

/// Host diagnostic: a NULL work item passed to a queue or free function
/// (Windows dereferences it: a page fault). Parameters: 1 the exported
/// function, 2-4 0.
pub const HOST_NULL_WORK_ITEM: u32 = HOST_DIAGNOSTIC_BASE + 5;

/// Host diagnostic: a negative queue type. The kernel's signed compare lets it
/// through as an undefined priority. Parameters: 1 the item, 2 the queue type,
/// 3-4 0.
pub const HOST_NEGATIVE_QUEUE_TYPE: u32 = HOST_DIAGNOSTIC_BASE + 6;

/// Host diagnostic: an object pointer the executive never made (or has freed)
/// passed where a DEVICE_OBJECT or DRIVER_OBJECT is needed; Windows validates
/// neither in `IoAllocateWorkItem`. Parameters: 1 the exported function, 2 the
/// pointer, 3-4 0.
pub const HOST_UNKNOWN_OBJECT: u32 = HOST_DIAGNOSTIC_BASE + 7;

/// Host diagnostic: work has waited longer than the starvation limit while
/// every worker thread (up to the cap) was busy. Windows would hang or keep
/// starting threads. Parameters: 1 items pending, 2 worker threads, 3 the
/// routine of the oldest pending item, 4 milliseconds waited.
pub const HOST_WORKER_STARVATION: u32 = HOST_DIAGNOSTIC_BASE + 8;

/// Host diagnostic: a wait that can never end on a manual executive: the
/// thread waits (e.g. `ExWaitForRundownProtectionRelease`) for references
/// that only pending work would release, and no other thread runs work; or
/// it waits inside a routine that `run_next` / `run_until_idle` runs on the
/// test's thread, whose code (which would go on beside a worker on Windows)
/// is stuck under that call. Windows's workers would run the work, or the
/// test's code would go on; call `run_until_idle` first, release what the
/// test holds first, or use a threaded executive. The wait returns with the
/// references still held, and ntwork frees nothing they guard. Parameters:
/// 1 the exported function, 2 the object waited on, 3 items pending, 4 0.
pub const HOST_MANUAL_WAIT_BLOCKS: u32 = HOST_DIAGNOSTIC_BASE + 9;

/// Host diagnostic: `IoInitializeWorkItem` on memory too small for
/// `IoSizeofWorkItem()` bytes (e.g. a hard-coded Vista size, 0x40).
/// Windows overruns the block. Parameters: 1 the item, 2 the start of the
/// pool block, 3 its size, 4 `IoSizeofWorkItem()`.
pub const HOST_IO_WORKITEM_OVERRUN: u32 = HOST_DIAGNOSTIC_BASE + 10;

/// Host diagnostic: a function or queue type that the executive's target
/// Windows version lacks (the loader of that version refuses the import, or
/// the kernel rejects the queue type). Parameters: 1 the exported function,
/// 2 the target ([`WindowsVersion`](crate::WindowsVersion) as a number),
/// 3 the queue type or 0, 4 0.
pub const HOST_NOT_IN_TARGET: u32 = HOST_DIAGNOSTIC_BASE + 11;

/// Host diagnostic: pool that holds a queued work item was freed without
/// Driver Verifier (retail Windows frees it and corrupts the queue later;
/// with Driver Verifier the same is 0xE4/0). Parameters as 0xE4/0: 1 0,
/// 2 the item, 3 the block start, 4 the block end.
pub const HOST_FREED_QUEUED_ITEM: u32 = HOST_DIAGNOSTIC_BASE + 12;

/// Host diagnostic standing for a KMDF Verifier break (the framework's
/// verifier breaks into the debugger, it does not bug-check). Parameters: 1
/// the reason (1: `WdfWorkItemFlush` from inside the item's own callback),
/// 2 the object, 3 the function, 4 0.
pub const HOST_WDF_VERIFIER_BREAK: u32 = HOST_DIAGNOSTIC_BASE + 14;

/// Host diagnostic: on an eager executive
/// ([`Executive::eager`](crate::Executive::eager)) a queued item did not
/// finish within the starvation limit while the queueing thread waited for
/// it: its routine waits for something the queueing thread holds (a lock, an
/// event it sets after the queue call). Windows's queue call would have
/// returned; eager mode cannot run such a routine before the call returns.
/// Parameters: 1 the item's number, 2 the routine (if it had not started),
/// 3 milliseconds waited, 4 0.
pub const HOST_EAGER_WAIT_TIMEOUT: u32 = HOST_DIAGNOSTIC_BASE + 15;

/// Host diagnostic: a function called above the highest IRQL its
/// documentation allows, where that limit is below `DISPATCH_LEVEL`
/// (`IoCreateDevice` / `IoDeleteDevice`: PASSIVE_LEVEL;
/// `ExWaitForRundownProtectionRelease`: APC_LEVEL), and the driver-object
/// extensions above theirs (`DISPATCH_LEVEL`). The retail kernel does not
/// check at the call; a wait or a page fault at that IRQL crashes or hangs
/// later. Parameters: 1 the
/// function, 2 the IRQL, 3 the object passed, 4 the function's limit.
pub const HOST_IRQL_TOO_HIGH: u32 = HOST_DIAGNOSTIC_BASE + 16;

/// Host diagnostic: a function raised an exception (`ExAllocatePool2` with
/// `POOL_FLAG_RAISE_ON_FAILURE` that fails raises
/// `STATUS_INSUFFICIENT_RESOURCES`). A driver without an exception handler
/// for it (every Rust driver) gets a bug check on Windows: 0x7E
/// SYSTEM_THREAD_EXCEPTION_NOT_HANDLED in a system thread, 0x1E
/// KMODE_EXCEPTION_NOT_HANDLED otherwise; the host cannot tell which.
/// Parameters: 1 the status raised, 2 the function, 3-4 0.
pub const HOST_EXCEPTION_RAISED: u32 = HOST_DIAGNOSTIC_BASE + 18;

/// Host diagnostic: an Ex routine queued while two or more drivers are (or
/// were) loaded, none of which declared the routine to be in its image
/// ([`Driver::add_to_image`](crate::Driver::add_to_image)). Windows knows the
/// image of every address (an Ex routine of an unloaded image is 0xCE when
/// the worker reaches it); the host's drivers share one test binary, so it
/// cannot tell which image would be unmapped and stops rather than guess.
/// Parameters: 1 the function, 2 the item, 3 the routine, 4 drivers loaded.
pub const HOST_ROUTINE_IMAGE_UNKNOWN: u32 = HOST_DIAGNOSTIC_BASE + 19;

/// Host diagnostic: `WdfWorkItemFlush`, or the flush of a work item's
/// dispose (`WdfObjectDelete`), from a callback of that item on a thread
/// KMDF does not take for the callback's: it skips the wait only on the
/// thread of the run that started last (`m_WorkItemThread`, cleared when any
/// run returns), so with another run started since, it waits for the running
/// count to reach 0, its own run included: for ever. Parameters: 1 the
/// function, 2 the item's handle, 3-4 0.
pub const HOST_WDF_WAITS_FOR_ITSELF: u32 = HOST_DIAGNOSTIC_BASE + 20;

/// Host diagnostic: a NULL pointer where the function writes or reads
/// through it (Windows dereferences it: a page fault). Parameters: 1 the
/// function, 2 which parameter (1-based), 3-4 0.
pub const HOST_NULL_ARGUMENT: u32 = HOST_DIAGNOSTIC_BASE + 17;

/// Host diagnostic: an IRQL proof of ntwork's disagrees with the simulated
/// IRQL, where it is made or used (a wrong `unsafe` claim such as
/// `Passive::assume()` at DISPATCH_LEVEL). Raised by the runtime through
/// `KeBugCheckEx`. Parameters: 1 the proof's level, 2 the thread's IRQL, 3
/// the address of the name of the call (`"RundownWait"`...), 4 its length.
pub const HOST_IRQL_PROOF: u32 = ntwork_sys::host::NTWORK_HOST_IRQL_PROOF;

/// A bug check, as data: the code and the four parameters `KeBugCheckEx`
/// takes. `Debug` and `Display` print them in hex, as a debugger does.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
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
            APC_INDEX_MISMATCH => "APC_INDEX_MISMATCH",
            REFERENCE_BY_POINTER => "REFERENCE_BY_POINTER",
            DRIVER_VERIFIER_DETECTED_VIOLATION => "DRIVER_VERIFIER_DETECTED_VIOLATION",
            BAD_POOL_CALLER => "BAD_POOL_CALLER",
            DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS => {
                "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS"
            }
            WORKER_THREAD_RETURNED_AT_BAD_IRQL => "WORKER_THREAD_RETURNED_AT_BAD_IRQL",
            WORKER_INVALID => "WORKER_INVALID",
            WDF_VIOLATION => "WDF_VIOLATION",
            KERNEL_MODE_HEAP_CORRUPTION => "KERNEL_MODE_HEAP_CORRUPTION",
            _ => host_diagnostic(self.code).map_or("UNKNOWN_BUG_CHECK", |(name, _)| name),
        }
    }

    /// Whether this is one of the host's own diagnostics (a code from
    /// [`HOST_DIAGNOSTIC_BASE`]), not a bug check Windows raises there.
    pub fn is_host_diagnostic(&self) -> bool {
        self.code & 0xFFFF_0000 == HOST_DIAGNOSTIC_BASE
    }

    /// For a host diagnostic, what Windows does instead (a bug check of its
    /// own later, a hang, corruption, or nothing); `None` for a Windows code.
    pub fn what_windows_does(&self) -> Option<&'static str> {
        host_diagnostic(self.code).map(|(_, windows)| windows)
    }

    /// Parameter 1, which is the subcode of `0xE4` and `0xC4`.
    pub fn subcode(&self) -> usize {
        self.parameters[0]
    }
}

/// The host diagnostics: name, and what Windows does instead.
fn host_diagnostic(code: u32) -> Option<(&'static str, &'static str)> {
    Some(match code {
        HOST_RUST_PANIC => (
            "HOST_RUST_PANIC",
            "no bug check is a Rust panic's; a panic = \"abort\" driver's panic handler bug-checks with a code of its own",
        ),
        HOST_IRQL_ABOVE_DISPATCH => (
            "HOST_IRQL_ABOVE_DISPATCH",
            "no check at the call; the call runs above its documented IRQL and may crash later",
        ),
        HOST_UNKNOWN_IO_WORKITEM => (
            "HOST_UNKNOWN_IO_WORKITEM",
            "uses whatever the memory holds as an IO_WORKITEM",
        ),
        HOST_REINITIALIZED_QUEUED_ITEM => (
            "HOST_REINITIALIZED_QUEUED_ITEM",
            "not detected: the worker queue is corrupted",
        ),
        HOST_NULL_WORK_ITEM => (
            "HOST_NULL_WORK_ITEM",
            "dereferences NULL: a page fault, which bug-checks (the code depends on the context)",
        ),
        HOST_NEGATIVE_QUEUE_TYPE => (
            "HOST_NEGATIVE_QUEUE_TYPE",
            "the signed check lets it through: an undefined priority",
        ),
        HOST_UNKNOWN_OBJECT => (
            "HOST_UNKNOWN_OBJECT",
            "uses the memory as an object: corruption, or a bug check where a field is checked",
        ),
        HOST_WORKER_STARVATION => (
            "HOST_WORKER_STARVATION",
            "the work waits: more worker threads up to the maximum, then a hang",
        ),
        HOST_MANUAL_WAIT_BLOCKS => (
            "HOST_MANUAL_WAIT_BLOCKS",
            "a host limit: Windows's workers would run the work the wait needs",
        ),
        HOST_IO_WORKITEM_OVERRUN => (
            "HOST_IO_WORKITEM_OVERRUN",
            "writes past the block: corruption",
        ),
        HOST_NOT_IN_TARGET => (
            "HOST_NOT_IN_TARGET",
            "the release's loader refuses the driver, or its kernel the queue type",
        ),
        HOST_FREED_QUEUED_ITEM => (
            "HOST_FREED_QUEUED_ITEM",
            "frees the pool; the worker later reads freed memory (0xE4/0 only under Driver Verifier)",
        ),
        HOST_WDF_VERIFIER_BREAK => (
            "HOST_WDF_VERIFIER_BREAK",
            "KMDF's verifier breaks into the debugger (DbgBreakOnError); no bug check",
        ),
        HOST_EAGER_WAIT_TIMEOUT => (
            "HOST_EAGER_WAIT_TIMEOUT",
            "a host limit: the queue call would have returned before the item ran",
        ),
        HOST_IRQL_TOO_HIGH => (
            "HOST_IRQL_TOO_HIGH",
            "no check at the call; a wait or a page fault at that IRQL hangs or bug-checks later",
        ),
        HOST_NULL_ARGUMENT => (
            "HOST_NULL_ARGUMENT",
            "dereferences NULL: a page fault, which bug-checks (the code depends on the context)",
        ),
        HOST_EXCEPTION_RAISED => (
            "HOST_EXCEPTION_RAISED",
            "raises an exception; unhandled (a Rust driver has no handler): bug check 0x7E in a system thread, else 0x1E",
        ),
        HOST_WDF_WAITS_FOR_ITSELF => (
            "HOST_WDF_WAITS_FOR_ITSELF",
            "the callback waits for its own run to end: a hang (a DbgPrint every 60 s)",
        ),
        HOST_ROUTINE_IMAGE_UNKNOWN => (
            "HOST_ROUTINE_IMAGE_UNKNOWN",
            "a host limit: Windows knows every address's image and faults (0xCE) only if it is unloaded",
        ),
        HOST_IRQL_PROOF => (
            "HOST_IRQL_PROOF",
            "no check: code that relies on a wrong IRQL claim waits or touches pageable memory at DISPATCH_LEVEL and bug-checks later (0xA, or 0x50 under Driver Verifier)",
        ),
        _ => return None,
    })
}

impl fmt::Display for BugCheck {
    /// `0xE4 WORKER_INVALID (0x1, 0x7f..., 0x1, 0x0)`; a host diagnostic adds
    /// `[host diagnostic; Windows: ...]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [p1, p2, p3, p4] = self.parameters;
        write!(
            f,
            "{:#X} {} ({p1:#x}, {p2:#x}, {p3:#x}, {p4:#x})",
            self.code,
            self.name()
        )?;
        if let Some(windows) = self.what_windows_does() {
            write!(f, " [host diagnostic; Windows: {windows}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BugCheck {
    /// `BugCheck(0xE4 WORKER_INVALID, [0x1, 0x7f..., 0x1, 0x0])`: what a
    /// failing `assert_eq!` shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [p1, p2, p3, p4] = self.parameters;
        write!(
            f,
            "BugCheck({:#X} {}, [{p1:#x}, {p2:#x}, {p3:#x}, {p4:#x}])",
            self.code,
            self.name()
        )
    }
}

impl core::error::Error for BugCheck {}
