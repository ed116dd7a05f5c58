//! The Io role (device or driver object): `IoRoutine` (+
//! `IoRoutineWithoutItem`, + the classic routine for a device), `ROUTINE`,
//! `new` and `queue`.

use proc_macro2::{Ident, Span};
use quote::quote;

use super::{Frame, Helper, Impl, Kept, Method, Names, Plan, routine_fn};
use crate::model::{IoObjectKind, Routine};

/// How the routine takes its own work item.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    /// Not at all: `fn(&DeviceObject, C)`.
    None,
    /// Kept: `IoWorkItem<name>`, which holds a counted reference on the object.
    Kept,
    /// Lent for the call: `RunningIoWorkItem<'_, name>`.
    Lent,
}

pub(super) fn plan(frame: &Frame<'_>, names: &Names, item_param: Item) -> Plan {
    let takes_item = item_param != Item::None;
    let Routine {
        vis,
        ident,
        krate,
        object,
        ..
    } = frame.routine;
    let Names {
        context: ctx,
        object: device,
        item,
        queue,
        ..
    } = names;
    let name = &frame.name;
    let (generics, param_ty, generic_param) =
        (&frame.generics, &frame.param_ty, &frame.generic_param);
    let ctx_param = frame.ctx_param(names);
    let ctx_arg = frame.ctx_arg(names);
    let object_name = Ident::new(object.type_name(), Span::call_site());
    let object_ty = quote!(#krate::#object_name);
    // The plain IO_WORKITEM_ROUTINE gets NULL for a driver-object item.
    let classic_routine = *object == IoObjectKind::Device;
    let ctx_pat = if frame.has_context() {
        quote!(#ctx)
    } else {
        quote!(())
    };
    let call_ctx = if frame.has_context() {
        quote!(#ctx,)
    } else {
        quote!()
    };

    let run = Method {
        sig: quote!(fn run(#device: &#object_ty, #ctx_pat: Self::Context, #item: #krate::RunningIoWorkItem<'_, Self>)),
        body: match item_param {
            Item::Kept => quote!(#ident(#device, #call_ctx #item.keep());),
            Item::Lent => quote!(#ident(#device, #call_ctx #item);),
            Item::None => quote!(#ident(#device, #call_ctx); let _ = #item;),
        },
    };
    let mut impls = vec![Impl {
        header: quote!(impl #krate::IoRoutine for #ident),
        items: quote!(type Object = #object_ty;),
        methods: vec![run],
    }];
    if !takes_item {
        impls.push(Impl {
            header: quote!(impl #krate::IoRoutineWithoutItem for #ident),
            items: quote!(),
            methods: vec![Method {
                sig: quote!(fn run_without_item(#device: &#object_ty, #ctx_pat: Self::Context)),
                body: quote!(#ident(#device, #call_ctx)),
            }],
        });
    }

    let mut helpers = Vec::new();
    if !takes_item {
        if classic_routine {
            let routine_doc = format!(
                " The `IO_WORKITEM_ROUTINE` of `{name}`, for `IoQueueWorkItem`. Its `Context` must come from `ntwork::raw::into_parameter` with the routine's context; it takes the context back and runs `{name}`."
            );
            helpers.push(Helper::Const {
                item: quote! {
                    #[doc = #routine_doc]
                    #vis const ROUTINE: #krate::ffi::IO_WORKITEM_ROUTINE = #krate::raw::io_routine::<#ident>();
                },
                kept: Kept::WithoutErrors,
            });
        }
        helpers.push(routine_fn(frame));
    }
    // Device routines have no Ex initializer; this one makes calling it a
    // single error naming IoQueueWorkItem instead of "no function named".
    let initialize_fn = frame.at_user("initialize");
    helpers.push(Helper::Fn {
        attrs: quote! {
            #[doc(hidden)]
            /// Device-bound routines have no Ex initializer: queue them with `queue(device, ...)`.
            ///
            /// # Safety
            ///
            /// Never callable: `Self` is device-bound.
        },
        sig: quote! {
            #vis unsafe fn #initialize_fn<#generic_param>(
                #item: *mut #krate::ffi::WORK_QUEUE_ITEM,
                #ctx: #generic_param,
            ) -> ::core::result::Result<(), #krate::AllocError<#generic_param>>
            where
                Self: #krate::__private::ExInitializer<#generic_param>,
        },
        body: quote!(unsafe { <Self as #krate::__private::ExInitializer<#generic_param>>::initialize(#item, #ctx) }),
        kept: Kept::WithoutErrors,
    });
    let new_doc = format!(
        " An Io work item for `{name}` bound to the {} object (`IoAllocateWorkItem`); `Err` on low resources.",
        if classic_routine { "device" } else { "driver" }
    );
    let queue_doc = format!(
        " Allocates an item for `{name}` and queues it on `queue` (callable at IRQL <= `DISPATCH_LEVEL`). On low resources the error holds the context."
    );
    let (new_fn, queue_fn) = (frame.at_user("new"), frame.at_user("queue"));
    helpers.push(Helper::Fn {
        attrs: quote!(#[doc = #new_doc]),
        sig: quote!(#vis fn #new_fn(#device: &#object_ty) -> ::core::result::Result<#krate::IoWorkItem<#ident>, #krate::AllocError>),
        body: quote!(#krate::IoWorkItem::new(#device)),
        kept: Kept::Always,
    });
    helpers.push(Helper::Fn {
        attrs: quote!(#[doc = #queue_doc]),
        sig: quote!(#vis fn #queue_fn #generics(#device: &#object_ty, #ctx_param #queue: #krate::WorkQueue) -> ::core::result::Result<(), #krate::AllocError<#param_ty>>),
        // Without its item, the routine's one-shot block is the context alone.
        body: if takes_item {
            quote!(#krate::__private::io_queue::<#ident>(#device, #ctx_arg, #queue))
        } else {
            quote!(#krate::__private::io_queue_without_item::<#ident>(#device, #ctx_arg, #queue))
        },
        kept: Kept::Always,
    });
    Plan { impls, helpers }
}
