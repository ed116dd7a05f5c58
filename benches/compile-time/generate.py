"""Writes a crate of N routines through #[work_item], and the same crate with
each routine written out as the attribute expands it (tests/expand/ex_owned.expanded.rs,
without the doc comments)."""
import sys

n, attribute, hand = int(sys.argv[1]), sys.argv[2], sys.argv[3]
head = "#![no_std]\n#![allow(non_camel_case_types, dead_code)]\n"
with open(attribute, "w") as f:
    f.write(head + "use ntwork::work_item;\n")
    for i in range(n):
        f.write(f"#[work_item]\npub fn r{i}(value: u64) {{ core::hint::black_box(value + {i}); }}\n")
with open(hand, "w") as f:
    f.write(head)
    for i in range(n):
        f.write(f"""pub fn r{i}(value: u64) {{ core::hint::black_box(value + {i}); }}
pub struct r{i} {{}}
impl ::ntwork::Routine for r{i} {{
    type Context = u64;
}}
impl ::ntwork::ExRoutine for r{i} {{
    fn run(context: Self::Context) {{ r{i}(context) }}
}}
impl r{i} {{
    pub const ROUTINE: ::ntwork::ffi::WORKER_THREAD_ROUTINE = <r{i} as ::ntwork::ExRoutine>::ROUTINE;
    #[must_use]
    pub fn routine<T: ::ntwork::abi::RoutineType<Self>>() -> T {{ <T as ::ntwork::abi::RoutineType<Self>>::of() }}
    /// # Safety
    /// As the generated one.
    pub unsafe fn initialize(item: *mut ::ntwork::ffi::WORK_QUEUE_ITEM, context: u64) -> ::core::result::Result<(), ::ntwork::AllocError<u64>> {{
        unsafe {{ ::ntwork::__private::ex_initialize::<r{i}>(item, context) }}
    }}
    pub fn new(context: u64) -> ::core::result::Result<::ntwork::ExWorkItem<r{i}>, ::ntwork::AllocError<u64>> {{
        ::ntwork::ExWorkItem::new(context)
    }}
    pub fn queue(rundown: &'static ::ntwork::Rundown, context: u64, queue: ::ntwork::WorkQueue) -> ::core::result::Result<(), ::ntwork::QueueError<u64>> {{
        ::ntwork::__private::ex_queue::<r{i}>(rundown, context, queue)
    }}
}}
""")
