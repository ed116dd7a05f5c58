fn drain(samples: &Samples) {
    let _ = samples;
}
#[allow(non_camel_case_types)]
/// The KMDF work item routine `drain` (`WdfWorkItemEnqueue`), as a type: `ntwork::wdf::WdfWorkItem<'_, drain>`. Generated beside it: `drain::create`.
struct drain {}
impl ::ntwork::Routine for drain {
    type Context = Samples;
}
unsafe impl ::ntwork::wdf::WdfContextSpace for drain {
    const CONTEXT_TYPE: &'static ::ntwork::wdf::ContextType = {
        static INFO: ::ntwork::wdf::ContextType = ::ntwork::wdf::ContextType::new::<
            drain,
        >(c"drain_CONTEXT", &INFO);
        &INFO
    };
    const KEPT_TYPE: &'static ::ntwork::wdf::ContextType = {
        static INFO: ::ntwork::wdf::ContextType = ::ntwork::wdf::ContextType::kept(
            c"drain_KEPT",
            &INFO,
        );
        &INFO
    };
}
impl ::ntwork::wdf::WdfRoutine for drain {
    type Parent = ::ntwork::wdf::WdfDevice;
    fn run(
        item: &::ntwork::wdf::RunningWdfWorkItem<'_, Self>,
        _: &mut ::ntwork::irql::Passive<'_>,
    ) {
        drain(item.context())
    }
}
impl drain {
    /// Creates a KMDF work item for `drain` under `parent` (`WdfWorkItemCreate`), with the context moved into its context space; `irql` proves IRQL <= `DISPATCH_LEVEL`.
    fn create<'__parent>(
        parent: &'__parent ::ntwork::wdf::WdfDevice,
        context: Samples,
        serialization: ::ntwork::wdf::Serialization,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::ntwork::wdf::WdfWorkItem<'__parent, drain>,
        ::ntwork::wdf::CreateError<Samples>,
    > {
        ::ntwork::wdf::WdfWorkItem::create(parent, context, serialization, irql)
    }
}
