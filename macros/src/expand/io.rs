//! The Io role (device or driver object): `IoRoutine` (+
//! `IoRoutineWithoutItem`, + the classic routine for a device), `ROUTINE`,
//! `routine::<T>()`, `new` and `queue`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::docs;
use super::frame::{Frame, Names};
use super::plan::{Helper, Impl, Item, Kept, Method, Plan, routine_fn};
use crate::model::{Io, IoItem, IoObject, Routine};

pub(super) fn plan(frame: &Frame<'_>, io: &Io, names: &Names) -> Plan {
    let mut helpers = Vec::new();
    if io.item == IoItem::None {
        // A routine that takes its item has no raw routine: its item
        // protocol is ntwork's own.
        helpers.extend(raw_routine(frame, io.object));
        helpers.push(routine_fn(frame));
    }
    helpers.push(initialize(frame, names));
    helpers.extend(new_and_queue(frame, io, names));
    Plan {
        impls: impls(frame, io, names),
        helpers,
    }
}

/// The object's type in the runtime.
fn object_ty(frame: &Frame<'_>, object: IoObject) -> TokenStream {
    let krate = &frame.routine.krate;
    let object_name = Ident::new(object.type_name(), Span::call_site());
    quote!(#krate::#object_name)
}

/// `IoRoutine`; without the item also `IoRoutineWithoutItem`, and for a
/// device the classic routine's marker (the plain `IO_WORKITEM_ROUTINE` gets
/// NULL for a driver-object item).
fn impls(frame: &Frame<'_>, io: &Io, names: &Names) -> Vec<Impl> {
    let Routine { ident, krate, .. } = frame.routine;
    let Names {
        context: ctx,
        object,
        item,
        ..
    } = names;
    let object_ty = object_ty(frame, io.object);
    let (ctx_pat, ctx_arg) = if frame.has_context() {
        (quote!(#ctx), Some(quote!(#ctx)))
    } else {
        (quote!(()), None)
    };
    let irql = frame.run_irql(names);
    let args = |item_arg: Option<TokenStream>| {
        let args: Vec<TokenStream> = [Some(quote!(#object)), ctx_arg.clone(), item_arg]
            .into_iter()
            .flatten()
            .collect();
        frame.call(&args, names)
    };
    let run = Method {
        sig: quote!(fn run(#object: &#object_ty, #ctx_pat: Self::Context, #item: #krate::RunningIoWorkItem<'_, Self>, #irql)),
        body: match io.item {
            IoItem::Kept => {
                let call = args(Some(quote!(#item.keep())));
                quote!(#call;)
            }
            IoItem::Lent => {
                let call = args(Some(quote!(#item)));
                quote!(#call;)
            }
            IoItem::None => {
                let call = args(None);
                quote!(#call; let _ = #item;)
            }
        },
    };
    let mut impls = vec![Impl {
        header: quote!(impl #krate::IoRoutine for #ident),
        items: quote!(type Object = #object_ty;),
        methods: vec![run],
    }];
    if io.item == IoItem::None {
        impls.push(Impl {
            header: quote!(impl #krate::IoRoutineWithoutItem for #ident),
            items: quote!(),
            methods: vec![Method {
                sig: quote!(fn run_without_item(#object: &#object_ty, #ctx_pat: Self::Context, #irql)),
                body: args(None),
            }],
        });
    }
    impls
}

/// `ROUTINE`, the classic `IO_WORKITEM_ROUTINE`: device routines only.
fn raw_routine(frame: &Frame<'_>, object: IoObject) -> Option<Helper> {
    let Routine {
        vis, ident, krate, ..
    } = frame.routine;
    let doc = docs::io_classic_routine(&frame.name);
    (object == IoObject::Device).then(|| Helper {
        listed: Some("ROUTINE"),
        item: Item::Const(quote! {
            #[doc = #doc]
            #vis const ROUTINE: #krate::ffi::IO_WORKITEM_ROUTINE = #krate::raw::io_routine::<#ident>();
        }),
        kept: Kept::WithoutErrors,
    })
}

/// Io routines have no Ex initializer; this hidden one makes calling it a
/// single error naming IoQueueWorkItem instead of "no function named".
fn initialize(frame: &Frame<'_>, names: &Names) -> Helper {
    let Routine { vis, krate, .. } = frame.routine;
    let (ctx, item, c) = (&names.context, &names.item, &frame.generic_param);
    let initialize_fn = frame.at_user("initialize");
    Helper {
        listed: None,
        item: Item::Fn {
            attrs: docs::io_initialize(),
            sig: quote! {
                #vis unsafe fn #initialize_fn<#c>(
                    #item: *mut #krate::ffi::WORK_QUEUE_ITEM,
                    #ctx: #c,
                ) -> ::core::result::Result<(), #krate::AllocError<#c>>
                where
                    Self: #krate::__private::ExInitializer<#c>,
            },
            body: quote!(unsafe { <Self as #krate::__private::ExInitializer<#c>>::initialize(#item, #ctx) }),
        },
        kept: Kept::WithoutErrors,
    }
}

/// `new(object, irql)` and `queue(object, context, queue, irql)`.
fn new_and_queue(frame: &Frame<'_>, io: &Io, names: &Names) -> [Helper; 2] {
    let Routine {
        vis, ident, krate, ..
    } = frame.routine;
    let (object, queue) = (&names.object, &names.queue);
    let (generics, param_ty) = (&frame.generics, &frame.param_ty);
    let (ctx_param, ctx_arg) = (frame.ctx_param(names), frame.ctx_arg(names));
    let (irql_param, irql) = (frame.dispatch_param(names), &names.irql);
    let object_ty = object_ty(frame, io.object);
    let new_doc = docs::io_new(&frame.name, io.object);
    let queue_doc = docs::io_queue(&frame.name, io.object);
    let (new_fn, queue_fn) = (frame.at_user("new"), frame.at_user("queue"));
    // Without its item, the routine's one-shot block is the context alone.
    let queue_once = if io.item == IoItem::None {
        quote!(io_queue_without_item)
    } else {
        quote!(io_queue)
    };
    [
        Helper {
            listed: Some("new"),
            item: Item::Fn {
                attrs: quote!(#[doc = #new_doc]),
                sig: quote!(#vis fn #new_fn(#object: &#object_ty, #irql_param) -> ::core::result::Result<#krate::IoWorkItem<#ident>, #krate::AllocError>),
                body: quote!(#krate::IoWorkItem::new(#object, #irql)),
            },
            kept: Kept::Always,
        },
        Helper {
            listed: Some("queue"),
            item: Item::Fn {
                attrs: quote!(#[doc = #queue_doc]),
                sig: quote!(#vis fn #queue_fn #generics(#object: &#object_ty, #ctx_param #queue: #krate::WorkQueue, #irql_param) -> ::core::result::Result<(), #krate::AllocError<#param_ty>>),
                body: quote!(#krate::__private::#queue_once::<#ident>(#object, #ctx_arg, #queue, #irql)),
            },
            kept: Kept::Always,
        },
    ]
}
