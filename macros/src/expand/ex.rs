//! The Ex role: `ExRoutine` (+ `ExRoutineRef`), `ROUTINE`, `initialize`,
//! `new` and `queue`.

use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Frame, Helper, Impl, Kept, Method, Names, Plan, doc_lines, routine_fn};
use crate::model::Routine;

pub(super) fn plan(frame: &Frame<'_>, names: &Names, borrowed: bool) -> Plan {
    let Routine {
        vis,
        ident,
        krate,
        rundown: stated_rundown,
        never_unloads,
        ..
    } = frame.routine;
    let Names {
        context: ctx,
        item,
        queue,
        rundown,
        ..
    } = names;
    let name = &frame.name;
    let (generics, param_ty) = (&frame.generics, &frame.param_ty);
    let ctx_param = frame.ctx_param(names);
    let ctx_arg = frame.ctx_arg(names);

    let run = match (borrowed, frame.has_context()) {
        (_, false) => Method {
            sig: quote!(fn run((): Self::Context)),
            body: quote!(#ident()),
        },
        (true, true) => Method {
            sig: quote!(fn run(#ctx: Self::Context)),
            body: quote!(#ident(&#ctx)),
        },
        (false, true) => Method {
            sig: quote!(fn run(#ctx: Self::Context)),
            body: quote!(#ident(#ctx)),
        },
    };
    let mut impls = vec![Impl {
        header: quote!(impl #krate::ExRoutine for #ident),
        items: quote!(),
        methods: vec![run],
    }];
    if borrowed {
        let run_ref = if frame.has_context() {
            Method {
                sig: quote!(fn run_ref(#ctx: &Self::Context)),
                body: quote!(#ident(#ctx)),
            }
        } else {
            Method {
                sig: quote!(fn run_ref(_: &Self::Context)),
                body: quote!(#ident()),
            }
        };
        impls.push(Impl {
            header: quote!(impl #krate::ExRoutineRef for #ident),
            items: quote!(),
            methods: vec![run_ref],
        });
    }

    if let Some(path) = stated_rundown {
        // At the user's path, so a path to something else than a
        // `static Rundown` is one type error there.
        let value = quote_spanned!(path.span()=> &#path);
        impls.push(Impl {
            header: quote!(impl #krate::__private::ExRoutineRundown for #ident),
            items: quote!(const RUNDOWN: &'static #krate::Rundown = #value;),
            methods: Vec::new(),
        });
    }

    if never_unloads.is_some() {
        impls.push(Impl {
            header: quote!(impl #krate::__private::ExRoutineNeverUnloads for #ident),
            items: quote!(),
            methods: Vec::new(),
        });
    }

    let result_doc = "On low resources the error holds the context.";
    let routine_doc = format!(
        " The `WORKER_THREAD_ROUTINE` of `{name}`. Its `Parameter` must come from `{name}::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `{name}`, and frees it."
    );
    let initialize_doc = doc_lines(&format!(
        " The typed `ExInitializeWorkItem` for `{name}`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. {result_doc}\n\n# Safety\n\n`item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back)."
    ));
    let new_doc =
        format!(" An owned one-shot item for `{name}`, holding its context. {result_doc}");
    let (initialize_fn, new_fn, queue_fn) = (
        frame.at_user("initialize"),
        frame.at_user("new"),
        frame.at_user("queue"),
    );
    let counted_in = match stated_rundown {
        Some(path) => format!("`{}`", quote!(#path).to_string().replace(' ', "")),
        None => String::from("`rundown`"),
    };
    let queue_doc = format!(
        " Allocates an item for `{name}` and queues it on `queue`, counted in {counted_in} until the routine returns (callable at IRQL <= `DISPATCH_LEVEL`). On low resources, or once the rundown has started, the error holds the context."
    );
    let never_doc = format!(
        " Allocates an item for `{name}` and queues it on `queue`, counted nowhere: the driver cannot unload (`unsafe(never_unloads)`). Callable at IRQL <= `DISPATCH_LEVEL`. {result_doc}"
    );
    let queue_helper = match (stated_rundown, never_unloads) {
        (_, Some(unsafe_token)) => Helper::Fn {
            // The block is the attribute's `unsafe`, which has no line of its
            // own for clippy's safety comment: the comment goes above the
            // attribute, as for `#[unsafe(no_mangle)]`.
            attrs: quote!(#[doc = #never_doc] #[allow(clippy::undocumented_unsafe_blocks)]),
            sig: quote!(#vis fn #queue_fn #generics(#ctx_param #queue: #krate::WorkQueue) -> ::core::result::Result<(), #krate::AllocError<#param_ty>>),
            body: user_unsafe(
                unsafe_token,
                quote!(#krate::__private::ex_queue_never_unloads::<#ident>(#ctx_arg, #queue)),
            ),
            kept: Kept::Always,
        },
        (Some(_), None) => Helper::Fn {
            attrs: quote!(#[doc = #queue_doc]),
            sig: quote!(#vis fn #queue_fn #generics(#ctx_param #queue: #krate::WorkQueue) -> ::core::result::Result<(), #krate::QueueError<#param_ty>>),
            body: quote!(#krate::__private::ex_queue_counted::<#ident>(#ctx_arg, #queue)),
            kept: Kept::Always,
        },
        (None, None) => Helper::Fn {
            attrs: quote!(#[doc = #queue_doc]),
            sig: quote!(#vis fn #queue_fn #generics(#rundown: &'static #krate::Rundown, #ctx_param #queue: #krate::WorkQueue) -> ::core::result::Result<(), #krate::QueueError<#param_ty>>),
            body: quote!(#krate::__private::ex_queue::<#ident>(#rundown, #ctx_arg, #queue)),
            kept: Kept::Always,
        },
    };
    let helpers = vec![
        Helper::Const {
            item: quote! {
                #[doc = #routine_doc]
                #vis const ROUTINE: #krate::ffi::WORKER_THREAD_ROUTINE = #krate::raw::ex_routine::<#ident>();
            },
            kept: Kept::Always,
        },
        routine_fn(frame),
        Helper::Fn {
            attrs: initialize_doc,
            sig: quote! {
                #vis unsafe fn #initialize_fn #generics(
                    #item: *mut #krate::ffi::WORK_QUEUE_ITEM,
                    #ctx_param
                ) -> ::core::result::Result<(), #krate::AllocError<#param_ty>>
            },
            body: quote!(unsafe { #krate::__private::ex_initialize::<#ident>(#item, #ctx_arg) }),
            kept: Kept::Always,
        },
        Helper::Fn {
            attrs: quote!(#[doc = #new_doc]),
            sig: quote!(#vis fn #new_fn #generics(#ctx_param) -> ::core::result::Result<#krate::ExWorkItem<#ident>, #krate::AllocError<#param_ty>>),
            body: quote!(#krate::ExWorkItem::new(#ctx_arg)),
            kept: Kept::Always,
        },
        queue_helper,
    ];
    Plan { impls, helpers }
}

/// `unsafe { #call }` written at the user's `unsafe` token (block and braces),
/// so the `unsafe_code` lint sees the user's own unsafe, as for
/// `#[unsafe(no_mangle)]`, and `forbid(unsafe_code)` rejects it.
fn user_unsafe(
    unsafe_token: &proc_macro2::Ident,
    call: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let span = unsafe_token.span();
    let mut braces = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, call);
    braces.set_span(span);
    let keyword = proc_macro2::Ident::new("unsafe", span);
    quote!(#keyword #braces)
}
