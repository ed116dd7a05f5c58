//! A C driver's stop path, ported line for line. In C:
//!
//! ```c
//! KDEFERRED_ROUTINE StopDpc;             // _IRQL_requires_(DISPATCH_LEVEL)
//! VOID StopDpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2) {
//!     PPORT port = (PPORT)Context;
//!     port->Stopping = TRUE;
//!     ExWaitForRundownProtectionRelease(&port->Work); // C28121, or bug check 0xA at run time
//! }
//! ```
//!
//! Code Analysis warns (C28121) when it can infer the IRQL; a DPC that calls
//! a helper which waits gets no warning. Here the wait is an error wherever
//! the DPC's proof reaches it.

use core::sync::atomic::{AtomicBool, Ordering};

use ntwork::Rundown;
use ntwork::irql::Dispatch;

struct Port {
    stopping: AtomicBool,
    work: Rundown,
}

fn wait_for_work(port: &Port, irql: &Dispatch<'_>) {
    port.work.wait(irql);
}

fn stop_dpc(port: &Port, irql: &Dispatch<'_>) {
    port.stopping.store(true, Ordering::SeqCst);
    wait_for_work(port, irql);
}

fn main() {
    let _ = stop_dpc;
}
