#[work_item]
pub fn tick(count: &AtomicU32) {
    count.fetch_add(1, Ordering::Relaxed);
}
