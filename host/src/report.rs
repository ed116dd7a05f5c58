//! The `*** STOP` line of a bug check, with the names of the routines among
//! its parameters where the host can resolve them to a symbol.
//!
//! A test that looks at the bug check it expected
//! ([`Executive::bug_check`](crate::Executive::bug_check) and friends) gets
//! no line; one nobody looked at is printed when its executive is dropped,
//! so a green `cargo test` prints nothing alarming and an unexpected stop
//! still shows. `NTWORK_HOST_PRINT_STOPS=1` prints every stop when raised.

use std::io::Write as _;
use std::string::String;
use std::sync::OnceLock;

use crate::bugcheck::BugCheck;

/// Whether every stop is printed when raised (`NTWORK_HOST_PRINT_STOPS`).
pub(crate) fn print_when_raised() -> bool {
    static PRINT: OnceLock<bool> = OnceLock::new();
    *PRINT.get_or_init(|| std::env::var_os("NTWORK_HOST_PRINT_STOPS").is_some_and(|v| v != "0"))
}

/// Prints the stop line to stderr (never panics).
pub(crate) fn print(bug_check: &BugCheck) {
    let mut line = std::format!("*** STOP (ntwork host executive): {bug_check}");
    for (i, &parameter) in bug_check.parameters.iter().enumerate() {
        if let Some(symbol) = symbol(parameter) {
            line.push_str(&std::format!("\n    parameter {}: {symbol}", i + 1));
        }
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The name of the function at `address` (a routine's start), if the test
/// binary's symbols say.
#[cfg(not(miri))]
fn symbol(address: usize) -> Option<String> {
    if address < 0x1_0000 {
        return None;
    }
    let mut found = None;
    // `resolve` takes a return address and looks up the byte before it, so
    // a function's first byte is asked for as the address after it. Only
    // the address is looked up; nothing is read through it.
    let lookup = core::ptr::without_provenance_mut(address.wrapping_add(1));
    backtrace::resolve(lookup, |symbol| {
        if found.is_none()
            && let Some(name) = symbol.name()
        {
            found = Some(std::format!("{name:#}"));
        }
    });
    found
}

/// Miri cannot read the binary's symbols.
#[cfg(miri)]
fn symbol(_: usize) -> Option<String> {
    None
}
