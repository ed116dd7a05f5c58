//! A C routine being ported as is.

use core::ffi::c_void;

use ntwork::work_item;

#[work_item]
unsafe extern "system" fn worker(parameter: *mut c_void) {
    let _ = parameter;
}

fn main() {}
