//! Model -> tokens.
//!
//! Each role module (`ex`, `io`, `wdf`) plans the routine's items: its trait
//! impls and its inherent helpers, with their real bodies. Without errors they
//! are emitted as planned; after errors, `fallback` emits the plan as
//! stand-ins (bodies `loop {}`, parameters `_`-named), so that the user's
//! calls still type-check and add no errors of their own. `frame` holds what
//! the plans share, `docs` every generated doc comment.
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
mod wdf;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::errors::Errors;
use crate::model::{Role, Routine};
use crate::parse::ItemFn;
use frame::{Frame, Names};

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
                (plan(&frame, &Names::used()), |body| body)
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

/// The role's plan for the routine, its parameters named by `names`.
fn plan(frame: &Frame<'_>, names: &Names) -> Plan {
    match &frame.routine.role {
        Role::Ex(ex) => ex::plan(frame, ex, names),
        Role::Io(io) => io::plan(frame, io, names),
        Role::Wdf(wdf) => wdf::plan(frame, wdf, names),
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

/// What a role generates beside the function.
struct Plan {
    /// Trait impls for the routine's type.
    impls: Vec<Impl>,
    /// Inherent items on the routine's type.
    helpers: Vec<Helper>,
}

impl Plan {
    /// How the routine type's doc lists the inherent items.
    fn listed(&self) -> Vec<String> {
        self.helpers
            .iter()
            .filter_map(|helper| helper.listed.map(String::from))
            .collect()
    }
}

/// `#header { #items #methods }`.
struct Impl {
    /// `impl Trait for name`.
    header: TokenStream,
    /// Associated types and constants, the same in stand-ins.
    items: TokenStream,
    methods: Vec<Method>,
}

/// A method: its signature and its real body.
struct Method {
    sig: TokenStream,
    body: TokenStream,
}

/// An inherent item of the routine's type.
struct Helper {
    /// How the routine type's doc lists it; `None` for a hidden one.
    listed: Option<&'static str>,
    item: Item,
    /// Whether stand-ins keep it.
    kept: Kept,
}

/// What an inherent item is.
enum Item {
    /// A function: its attributes (docs), signature and real body.
    Fn {
        attrs: TokenStream,
        sig: TokenStream,
        body: TokenStream,
    },
    /// A constant, emitted as is.
    Const(TokenStream),
}

/// Whether stand-ins keep a helper.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// The user's calls of it must keep type-checking after an error.
    Always,
    /// Only with a valid routine: a raw routine of a broken routine, or a
    /// helper that exists to report another mistake.
    WithoutErrors,
}

/// `name::routine::<T>()`: the raw-protocol routine in the pointer type `T`
/// of whichever binding the caller uses (ntwork's, wdk-sys's, windows-sys's).
fn routine_fn(frame: &Frame<'_>) -> Helper {
    let Routine {
        krate, vis, role, ..
    } = frame.routine;
    let t = Ident::new("__NtworkRoutineType", Span::mixed_site());
    let doc = docs::routine_fn(&frame.name, role);
    Helper {
        listed: Some("routine::<T>()"),
        item: Item::Fn {
            attrs: quote!(#doc #[must_use]),
            sig: quote!(#vis fn routine<#t: #krate::abi::RoutineType<Self>>() -> #t),
            body: quote!(<#t as #krate::abi::RoutineType<Self>>::of()),
        },
        kept: Kept::WithoutErrors,
    }
}

/// The tokens of a path, all at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}
