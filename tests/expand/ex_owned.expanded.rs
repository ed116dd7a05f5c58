fn flush_log(batch: Vec<u8>) {
    let _ = batch;
}
#[allow(non_camel_case_types)]
/// The Ex work item routine `flush_log` (`ExQueueWorkItem`), as a type: `ExWorkItem<flush_log>`. Generated beside it: `flush_log::ROUTINE`, `flush_log::routine::<T>()`, `flush_log::initialize`, `flush_log::new`, `flush_log::queue`.
struct flush_log {}
impl ::ntwork::Routine for flush_log {
    type Context = Vec<u8>;
}
impl ::ntwork::ExRoutine for flush_log {
    fn run(context: Self::Context, _: &mut ::ntwork::irql::Passive<'_>) {
        flush_log(context)
    }
}
impl flush_log {
    /// The `WORKER_THREAD_ROUTINE` of `flush_log`. Its `Parameter` must come from `flush_log::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `flush_log`, and frees it. Items queued with it are counted in no `Rundown`: the caller keeps the driver loaded.
    const ROUTINE: ::ntwork::ffi::WORKER_THREAD_ROUTINE = ::ntwork::raw::ex_routine::<
        flush_log,
    >();
    /// `ROUTINE` of `flush_log` in the routine pointer type `T` of a binding: `ntwork::ffi`'s, wdk-sys's (`extern "C"` on x86_64 and aarch64) or windows-sys's (parameterless), with the same contract. See `ntwork::abi`.
    #[must_use]
    fn routine<__NtworkRoutineType: ::ntwork::abi::RoutineType<Self>>() -> __NtworkRoutineType {
        <__NtworkRoutineType as ::ntwork::abi::RoutineType<Self>>::of()
    }
    /// The typed `ExInitializeWorkItem` for `flush_log`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. On low resources the error holds the context.
    ///
    /// # Safety
    ///
    /// `item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back). The item is counted in no `Rundown`: the driver's image stays loaded until the routine has returned (the caller waits for it before its DriverUnload returns, or the driver cannot unload).
    unsafe fn initialize(
        item: *mut ::ntwork::ffi::WORK_QUEUE_ITEM,
        context: Vec<u8>,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<Vec<u8>>> {
        unsafe { ::ntwork::__private::ex_initialize::<flush_log>(item, context) }
    }
    /// An owned one-shot item for `flush_log`, holding its context; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn new(
        context: Vec<u8>,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::ntwork::ExWorkItem<flush_log>,
        ::ntwork::AllocError<Vec<u8>>,
    > {
        ::ntwork::ExWorkItem::new(context, irql)
    }
    /// Allocates an item for `flush_log` and queues it on `queue`, counted in `rundown` until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources, or once the rundown has started, the error holds the context.
    fn queue(
        rundown: &'static ::ntwork::Rundown,
        context: Vec<u8>,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::QueueError<Vec<u8>>> {
        ::ntwork::__private::ex_queue::<flush_log>(rundown, context, queue, irql)
    }
}
