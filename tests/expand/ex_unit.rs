#[work_item(ex)]
pub(crate) fn heartbeat() {}
