//! What a plan is made of: the trait impls and inherent helpers a role
//! generates beside the function, and the pieces every role shares.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::docs;
use super::frame::Frame;
use crate::model::Routine;

/// What a role generates beside the function.
pub(super) struct Plan {
    /// Trait impls for the routine's type.
    pub(super) impls: Vec<Impl>,
    /// Inherent items on the routine's type.
    pub(super) helpers: Vec<Helper>,
}

impl Plan {
    /// How the routine type's doc lists the inherent items.
    pub(super) fn listed(&self) -> Vec<String> {
        self.helpers
            .iter()
            .filter_map(|helper| helper.listed.map(String::from))
            .collect()
    }
}

/// `#header { #items #methods }`.
pub(super) struct Impl {
    /// `impl Trait for name`.
    pub(super) header: TokenStream,
    /// Associated types and constants, the same in stand-ins.
    pub(super) items: TokenStream,
    pub(super) methods: Vec<Method>,
}

/// A method: its signature and its real body.
pub(super) struct Method {
    pub(super) sig: TokenStream,
    pub(super) body: TokenStream,
}

/// An inherent item of the routine's type.
pub(super) struct Helper {
    /// How the routine type's doc lists it; `None` for a hidden one.
    pub(super) listed: Option<&'static str>,
    pub(super) item: Item,
    /// Whether stand-ins keep it.
    pub(super) kept: Kept,
}

/// What an inherent item is.
pub(super) enum Item {
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
pub(super) enum Kept {
    /// The user's calls of it must keep type-checking after an error.
    Always,
    /// Only with a valid routine: a raw routine of a broken routine, or a
    /// helper that exists to report another mistake.
    WithoutErrors,
}

/// `name::routine::<T>()`: the raw-protocol routine in the pointer type `T`
/// of whichever binding the caller uses (ntwork's, wdk-sys's, windows-sys's).
pub(super) fn routine_fn(frame: &Frame<'_>) -> Helper {
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
pub(super) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}
