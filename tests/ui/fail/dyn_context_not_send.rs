//! A boxed closure job that is not `Send`: rustc's E0277 at the type, without
//! the ntwork note (`+ Send`).
use ntwork::work_item;

#[work_item]
fn run(job: Box<dyn FnOnce()>) {
    job();
}

fn main() {}
