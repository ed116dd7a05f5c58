//! The Ex role: `ExRoutine` (+ `ExRoutineRef`, + the routine's unload
//! marker), `ROUTINE`, `routine::<T>()`, `initialize`, `new` and `queue`.

use proc_macro2::{Delimiter, Group, Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::docs;
use super::frame::{Frame, Names};
use super::plan::{Helper, Impl, Item, Kept, Method, Plan, routine_fn};
use crate::model::{Ex, Routine, Unload};

pub(super) fn plan(frame: &Frame<'_>, ex: &Ex, names: &Names) -> Plan {
    let mut impls = role_impls(frame, names, ex.borrows());
    impls.extend(unload_impl(frame, &ex.unload));
    Plan {
        impls,
        helpers: helpers(frame, ex, names),
    }
}

/// `ExRoutine` and, for a routine that borrows its context, `ExRoutineRef`.
pub(super) fn role_impls(frame: &Frame<'_>, names: &Names, borrows: bool) -> Vec<Impl> {
    let Routine { ident, krate, .. } = frame.routine;
    let ctx = &names.context;
    let irql = frame.run_irql(names);
    let run = match (borrows, frame.has_context()) {
        (_, false) => Method {
            sig: quote!(fn run((): Self::Context, #irql)),
            body: frame.call(&[], names),
        },
        (true, true) => Method {
            sig: quote!(fn run(#ctx: Self::Context, #irql)),
            body: frame.call(&[quote!(&#ctx)], names),
        },
        (false, true) => Method {
            sig: quote!(fn run(#ctx: Self::Context, #irql)),
            body: frame.call(&[quote!(#ctx)], names),
        },
    };
    let mut impls = vec![Impl {
        header: quote!(impl #krate::ExRoutine for #ident),
        items: quote!(),
        methods: vec![run],
    }];
    if borrows {
        let run_ref = if frame.has_context() {
            Method {
                sig: quote!(fn run_ref(#ctx: &Self::Context, #irql)),
                body: frame.call(&[quote!(#ctx)], names),
            }
        } else {
            Method {
                sig: quote!(fn run_ref(_: &Self::Context, #irql)),
                body: frame.call(&[], names),
            }
        };
        impls.push(Impl {
            header: quote!(impl #krate::ExRoutineRef for #ident),
            items: quote!(),
            methods: vec![run_ref],
        });
    }
    impls
}

/// The hidden marker of a routine whose items count in a stated rundown, or
/// nowhere.
fn unload_impl(frame: &Frame<'_>, unload: &Unload) -> Option<Impl> {
    let Routine { ident, krate, .. } = frame.routine;
    match unload {
        Unload::AtTheCall => None,
        Unload::Rundown(path) => {
            // At the user's path, so a path to something else than a
            // `static Rundown` is one type error there.
            let value = quote_spanned!(path.span()=> &#path);
            Some(Impl {
                header: quote!(impl #krate::__private::ExRoutineRundown for #ident),
                items: quote!(const RUNDOWN: &'static #krate::Rundown = #value;),
                methods: Vec::new(),
            })
        }
        Unload::NeverUnloads(_) => Some(Impl {
            header: quote!(impl #krate::__private::ExRoutineNeverUnloads for #ident),
            items: quote!(),
            methods: Vec::new(),
        }),
    }
}

/// `ROUTINE`, `routine::<T>()`, `unsafe initialize`, `new`, `queue`.
fn helpers(frame: &Frame<'_>, ex: &Ex, names: &Names) -> Vec<Helper> {
    let Routine {
        vis, ident, krate, ..
    } = frame.routine;
    let name = &frame.name;
    let (generics, param_ty) = (&frame.generics, &frame.param_ty);
    let (ctx_param, ctx_arg, item) = (frame.ctx_param(names), frame.ctx_arg(names), &names.item);
    let (irql_param, irql) = (frame.dispatch_param(names), &names.irql);
    let routine_doc = docs::ex_routine(name);
    let new_doc = docs::ex_new(name);
    let initialize_doc = docs::ex_initialize(name);
    let (initialize_fn, new_fn) = (frame.at_user("initialize"), frame.at_user("new"));
    vec![
        Helper {
            listed: Some("ROUTINE"),
            item: Item::Const(quote! {
                #[doc = #routine_doc]
                #vis const ROUTINE: #krate::ffi::WORKER_THREAD_ROUTINE = #krate::raw::ex_routine::<#ident>();
            }),
            kept: Kept::Always,
        },
        routine_fn(frame),
        Helper {
            listed: Some("initialize"),
            item: Item::Fn {
                attrs: initialize_doc,
                sig: quote! {
                    #vis unsafe fn #initialize_fn #generics(
                        #item: *mut #krate::ffi::WORK_QUEUE_ITEM,
                        #ctx_param
                    ) -> ::core::result::Result<(), #krate::AllocError<#param_ty>>
                },
                body: quote!(unsafe { #krate::__private::ex_initialize::<#ident>(#item, #ctx_arg) }),
            },
            kept: Kept::Always,
        },
        Helper {
            listed: Some("new"),
            item: Item::Fn {
                attrs: quote!(#[doc = #new_doc]),
                sig: quote!(#vis fn #new_fn #generics(#ctx_param #irql_param) -> ::core::result::Result<#krate::ExWorkItem<#ident>, #krate::AllocError<#param_ty>>),
                body: quote!(#krate::ExWorkItem::new(#ctx_arg, #irql)),
            },
            kept: Kept::Always,
        },
        queue(frame, ex, names),
    ]
}

/// `queue`: with the caller's rundown, the stated one, or none.
fn queue(frame: &Frame<'_>, ex: &Ex, names: &Names) -> Helper {
    let Routine {
        vis, ident, krate, ..
    } = frame.routine;
    let (generics, param_ty) = (&frame.generics, &frame.param_ty);
    let (ctx_param, ctx_arg) = (frame.ctx_param(names), frame.ctx_arg(names));
    let (queue, rundown) = (&names.queue, &names.rundown);
    let (irql_param, irql) = (frame.dispatch_param(names), &names.irql);
    let queue_fn = frame.at_user("queue");
    let doc = docs::ex_queue(&frame.name, ex);
    let item = match &ex.unload {
        Unload::NeverUnloads(unsafe_token) => Item::Fn {
            // The block is the attribute's `unsafe`, which has no line of its
            // own for clippy's safety comment: the comment goes above the
            // attribute, as for `#[unsafe(no_mangle)]`.
            attrs: quote!(#[doc = #doc] #[allow(clippy::undocumented_unsafe_blocks)]),
            sig: quote!(#vis fn #queue_fn #generics(#ctx_param #queue: #krate::WorkQueue, #irql_param) -> ::core::result::Result<(), #krate::AllocError<#param_ty>>),
            body: user_unsafe(
                unsafe_token,
                quote!(#krate::__private::ex_queue_never_unloads::<#ident>(#ctx_arg, #queue, #irql)),
            ),
        },
        Unload::Rundown(_) => Item::Fn {
            attrs: quote!(#[doc = #doc]),
            sig: quote!(#vis fn #queue_fn #generics(#ctx_param #queue: #krate::WorkQueue, #irql_param) -> ::core::result::Result<(), #krate::QueueError<#param_ty>>),
            body: quote!(#krate::__private::ex_queue_counted::<#ident>(#ctx_arg, #queue, #irql)),
        },
        Unload::AtTheCall => Item::Fn {
            attrs: quote!(#[doc = #doc]),
            sig: quote!(#vis fn #queue_fn #generics(#rundown: &'static #krate::Rundown, #ctx_param #queue: #krate::WorkQueue, #irql_param) -> ::core::result::Result<(), #krate::QueueError<#param_ty>>),
            body: quote!(#krate::__private::ex_queue::<#ident>(#rundown, #ctx_arg, #queue, #irql)),
        },
    };
    Helper {
        listed: Some("queue"),
        item,
        kept: Kept::Always,
    }
}

/// `unsafe { #call }` written at the user's `unsafe` token (block and braces),
/// so the `unsafe_code` lint sees the user's own unsafe, as for
/// `#[unsafe(no_mangle)]`, and `forbid(unsafe_code)` rejects it.
fn user_unsafe(unsafe_token: &Ident, call: TokenStream) -> TokenStream {
    let span = unsafe_token.span();
    let mut braces = Group::new(Delimiter::Brace, call);
    braces.set_span(span);
    let keyword = Ident::new("unsafe", span);
    quote!(#keyword #braces)
}
