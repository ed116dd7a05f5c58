//! The kernel's exports, defined with the names and C signatures of
//! `ntwork_sys`, so a driver's calls link here on the host.
//!
//! Each one routes to the executive bound to the calling thread and never
//! lets a panic escape (it would abort the test process).

use core::panic::AssertUnwindSafe;
use std::io::Write as _;

mod irql;
mod objects;
mod pool;
mod sync;
mod work;

/// Runs an export's body; a panic in the host itself becomes `default`.
fn guarded<T>(default: T, body: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        let _ = writeln!(
            std::io::stderr(),
            "ntwork host executive: internal panic in an export"
        );
        default
    })
}
