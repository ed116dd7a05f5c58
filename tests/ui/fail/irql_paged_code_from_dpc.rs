//! A driver's own pageable code states its rule with the same traits: at most
//! APC_LEVEL (a page fault at DISPATCH_LEVEL is bug check 0xA).

use ntwork::irql::{AtMostApc, Dispatch};

/// Reads a registry value into paged pool.
fn read_configuration(irql: &impl AtMostApc) -> u32 {
    let _ = irql;
    0
}

fn dpc(irql: &Dispatch<'_>) -> u32 {
    read_configuration(irql)
}

fn main() {
    let _ = dpc;
}
