#[work_item(driver)]
fn refresh(driver: &DriverObject, generation: u64) {
    let _ = (driver, generation);
}
