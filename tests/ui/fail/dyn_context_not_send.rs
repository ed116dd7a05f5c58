//! A boxed closure job that is not `Send`: one error at the type, written
//! with the bound it needs (`Box<dyn FnOnce() + Send>`).
use ntwork::work_item;

#[work_item]
fn run(job: Box<dyn FnOnce()>) {
    job();
}

fn main() {}
