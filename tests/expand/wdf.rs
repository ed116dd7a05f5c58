#[work_item(wdf)]
fn drain(samples: &Samples) {
    let _ = samples;
}
