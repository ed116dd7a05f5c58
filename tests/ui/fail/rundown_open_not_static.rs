//! A rundown made on DriverEntry's stack, opened for the driver: unload
//! would wait on it after DriverEntry returned. It must be a `static`.

use ntwork::irql::Passive;
use ntwork::{DriverObject, Rundown};

fn driver_entry(driver: &DriverObject, irql: &Passive<'_>) {
    let work = Rundown::new();
    let _ = work.open(driver, irql);
}

fn main() {
    let _ = driver_entry;
}
