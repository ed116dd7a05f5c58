//! Tokens -> syntax: the attribute's item, parsed only as far as its signature.
//!
//! As in tokio-macros, the body stays an unparsed brace group: the routine's
//! body is the user's business, and parsing it would only cost time and
//! produce errors that rustc reports better.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

/// A function item with its body kept as tokens.
pub(crate) struct ItemFn {
    /// Outer attributes (doc comments, `#[inline]`, ...), re-emitted unchanged.
    pub(crate) attrs: Vec<Attribute>,
    /// The function's visibility; generated inherent items copy it.
    pub(crate) vis: Visibility,
    /// The signature, fully parsed.
    pub(crate) sig: Signature,
    /// The body: a brace-delimited group, never parsed.
    pub(crate) body: Group,
}

impl Parse for ItemFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let body = input.step(|cursor| match cursor.token_tree() {
            Some((TokenTree::Group(group), rest)) if group.delimiter() == Delimiter::Brace => {
                Ok((group, rest))
            }
            _ => Err(cursor.error("expected the function's body: `fn name(context: C) { ... }`")),
        })?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function body"));
        }
        Ok(ItemFn {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// Parses the attribute's item. An error means it is not a function with a body.
pub(crate) fn item(tokens: TokenStream) -> syn::Result<ItemFn> {
    syn::parse2::<ItemFn>(tokens).map_err(|error| {
        let message = format!("`#[work_item]` goes on a free function with a body: {error}");
        syn::Error::new(error.span(), message)
    })
}
