//! Model -> tokens.
//!
//! Each role module (`ex`, `io`, `wdf`) plans the routine's items: its trait
//! impls and its inherent helpers, with their real bodies. Without errors they
//! are emitted as planned; after errors, `fallback` emits the plan as
//! stand-ins (bodies `loop {}`, parameters `_`-named), so that the user's
//! calls still type-check and add no errors of their own. `frame` holds what
//! the plans share, `plan` the vocabulary of a plan, `roles` which role plans
//! a routine, `docs` every generated doc comment.
//!
//! Every path is absolute (`::core::...`, `::ntwork::...` or the `crate = path`
//! prefix), every generated item has a doc comment and the function's
//! visibility, and the only `unsafe` is forwarding: the trampolines live in
//! the runtime.

mod docs;
mod ex;
mod fallback;
mod frame;
mod io;
mod plan;
mod roles;
mod wdf;

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::Errors;
use crate::model::Routine;
use crate::parse::ItemFn;
use frame::{Frame, Names};
use plan::{Impl, Item, Method, Plan};

/// The function, the generated items (stand-ins if there are errors), and the errors.
pub(crate) fn expand(function: &ItemFn, routine: Option<&Routine>, errors: &Errors) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        body,
    } = function;
    let items = routine
        .map(|routine| {
            let frame = Frame::new(routine);
            let (plan, stand_in): (Plan, fn(TokenStream) -> TokenStream) = if errors.count() == 0 {
                (roles::plan(&frame, &Names::used()), |body| body)
            } else {
                (fallback::plan(&frame), |_| quote!(loop {}))
            };
            let doc = docs::struct_doc(routine, &plan.listed());
            frame.carried(&doc, render(&frame, plan, stand_in))
        })
        .unwrap_or_default();
    let errors = errors.to_compile_errors();
    quote! {
        #(#attrs)*
        #vis #sig #body
        #items
        #errors
    }
}

/// The plan as tokens, each body through `body` (as planned, or a stand-in's).
fn render(frame: &Frame<'_>, plan: Plan, body: fn(TokenStream) -> TokenStream) -> TokenStream {
    let ident = &frame.routine.ident;
    let impls = plan.impls.into_iter().map(|planned| {
        let Impl {
            header,
            items,
            methods,
        } = planned;
        let methods = methods.into_iter().map(|Method { sig, body: planned }| {
            let body = body(planned);
            quote!(#sig { #body })
        });
        quote!(#header { #items #(#methods)* })
    });
    let helpers = plan.helpers.into_iter().map(|helper| match helper.item {
        Item::Fn {
            attrs,
            sig,
            body: planned,
        } => {
            let body = body(planned);
            quote!(#attrs #sig { #body })
        }
        Item::Const(item) => item,
    });
    quote! {
        #(#impls)*
        impl #ident {
            #(#helpers)*
        }
    }
}
