//! DriverUnload ported as a closure over DriverEntry's state: `set_unload`
//! takes a plain `fn`; the state belongs in a device extension or a `static`.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use ntwork::DriverObject;
use ntwork::irql::Passive;

fn driver_entry(driver: &DriverObject, irql: &Passive<'_>) {
    let state = Arc::new(AtomicU32::new(0));
    let _ = driver.set_unload(
        move |_driver, _irql| {
            let _ = &state;
        },
        irql,
    );
}

fn main() {
    let _ = driver_entry;
}
