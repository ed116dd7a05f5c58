fn drain(pending: &Pending, irql: &Passive<'_>) {
    pending.rundown.wait(irql);
}
#[allow(non_camel_case_types)]
/// The Ex work item routine `drain` (`ExQueueWorkItem`), as a type: `ExWorkItem<drain>` and, since it borrows its context, `ReusableExWorkItem<drain>`. Generated beside it: `drain::ROUTINE`, `drain::routine::<T>()`, `drain::initialize`, `drain::new`, `drain::queue`.
struct drain {}
impl ::ntwork::Routine for drain {
    type Context = Pending;
}
impl ::ntwork::ExRoutine for drain {
    fn run(context: Self::Context, irql: &mut ::ntwork::irql::Passive<'_>) {
        drain(&context, irql)
    }
}
impl ::ntwork::ExRoutineRef for drain {
    fn run_ref(context: &Self::Context, irql: &mut ::ntwork::irql::Passive<'_>) {
        drain(context, irql)
    }
}
impl ::ntwork::__private::ExRoutineRundown for drain {
    const RUNDOWN: &'static ::ntwork::Rundown = &WORK;
}
impl drain {
    /// The `WORKER_THREAD_ROUTINE` of `drain`. Its `Parameter` must come from `drain::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `drain`, and frees it. Items queued with it are counted in no `Rundown`: the caller keeps the driver loaded.
    const ROUTINE: ::ntwork::ffi::WORKER_THREAD_ROUTINE = ::ntwork::raw::ex_routine::<
        drain,
    >();
    /// `ROUTINE` of `drain` in the routine pointer type `T` of a binding: `ntwork::ffi`'s, wdk-sys's (`extern "C"` on x86_64 and aarch64) or windows-sys's (parameterless), with the same contract. See `ntwork::abi`.
    #[must_use]
    fn routine<__NtworkRoutineType: ::ntwork::abi::RoutineType<Self>>() -> __NtworkRoutineType {
        <__NtworkRoutineType as ::ntwork::abi::RoutineType<Self>>::of()
    }
    /// The typed `ExInitializeWorkItem` for `drain`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. On low resources the error holds the context.
    ///
    /// # Safety
    ///
    /// `item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back). The item is counted in no `Rundown`: the driver's image stays loaded until the routine has returned (the caller waits for it before its DriverUnload returns, or the driver cannot unload).
    unsafe fn initialize(
        item: *mut ::ntwork::ffi::WORK_QUEUE_ITEM,
        context: Pending,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<Pending>> {
        unsafe { ::ntwork::__private::ex_initialize::<drain>(item, context) }
    }
    /// An owned one-shot item for `drain`, holding its context; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn new(
        context: Pending,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::ntwork::ExWorkItem<drain>,
        ::ntwork::AllocError<Pending>,
    > {
        ::ntwork::ExWorkItem::new(context, irql)
    }
    /// Allocates an item for `drain` and queues it on `queue`, counted in `WORK` until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources, or once the rundown has started, the error holds the context.
    fn queue(
        context: Pending,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::QueueError<Pending>> {
        ::ntwork::__private::ex_queue_counted::<drain>(context, queue, irql)
    }
}
