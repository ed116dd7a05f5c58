#[work_item(rundown = WORK)]
fn drain(pending: &Pending, irql: &Passive<'_>) {
    pending.rundown.wait(irql);
}
