//! What only the host executive provides: the runtime checks IRQL proofs
//! against the host's simulated IRQL with these, in host builds only (never in
//! a driver: on x64 and arm64 `KeGetCurrentIrql` is an intrinsic, not an
//! export, and a driver's IRQL proofs cost nothing).

use super::{KIRQL, ULONG};

unsafe extern "system" {
    /// `KeGetCurrentIrql`: the calling thread's (simulated) IRQL.
    pub fn KeGetCurrentIrql() -> KIRQL;

    /// `KeBugCheckEx`: stops the host executive with `BugCheckCode` and
    /// its parameters, and returns (the host never unwinds out of it).
    pub fn KeBugCheckEx(BugCheckCode: ULONG, P1: usize, P2: usize, P3: usize, P4: usize);
}

/// The host diagnostic the runtime raises when an IRQL proof disagrees
/// with the simulated IRQL: (the proof's level, the thread's IRQL, the
/// address of the call's name, its length). In the host's range
/// (`0x4E57_00xx`), never a Windows code.
pub const NTWORK_HOST_IRQL_PROOF: ULONG = 0x4E57_0040;
