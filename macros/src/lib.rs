//! The `#[work_item]` attribute of [ntwork](https://docs.rs/ntwork).
//!
//! The phases, one module each, data flowing one way: `parse` (tokens to
//! syntax, the body kept as tokens) and `args` (the attribute's arguments),
//! `validate` (syntax to the `model`, reading only, one module per concern),
//! `model` (the routine: one variant per role, each with its own data),
//! `expand` (model to tokens: one module per role, each planning its items)
//! and `expand::fallback` (the same plan as stand-ins after errors); `errors`
//! collects every error, each at the user's token. Use the attribute through
//! `ntwork::work_item`.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

mod args;
mod errors;
mod expand;
mod model;
mod parse;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;

/// Turns a function into a typed kernel work item routine.
///
/// ```ignore
/// static WORK: ntwork::Rundown = ntwork::Rundown::new();
///
/// #[ntwork::work_item]
/// fn flush_log(batch: Vec<u8>) { /* at PASSIVE_LEVEL on a system worker thread */ }
///
/// // in a DPC, with its `irql: &Dispatch<'_>` proof:
/// flush_log::queue(&WORK, b"...".to_vec(), ntwork::WorkQueue::Delayed, irql)?;
/// ```
///
/// The function may end with `irql: &Passive<'_>` (or `&mut`): the proof that
/// it runs at PASSIVE_LEVEL, lent by ntwork's routine.
///
/// Arguments (none: the role comes from the signature):
///
/// - `ex`, `device`, `driver`, `wdf`: the role, stated;
/// - `parent = device | queue` (with `wdf`): the KMDF item's parent kind;
/// - `rundown = STATIC` (Ex): the `static Rundown` the one-shot items count in;
/// - `unsafe(never_unloads)` (Ex): the driver cannot unload, so they count nowhere;
/// - `crate = path::to::ntwork`: where ntwork is, for crates that re-export it.
///
/// See the ntwork crate for what is generated.
#[proc_macro_attribute]
pub fn work_item(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand(args.into(), item.into()).into()
}

/// Emits the item, then the tokens in its arguments. `#[work_item]` puts the
/// generated impls here, on the routine's `struct`, so that inside an `impl`
/// block (where a struct is not allowed and is dropped with its attributes)
/// the misplaced attribute is one error, not one per generated item. Not a
/// public API.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn __with_items(
    items: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    let mut item = item;
    item.extend(items);
    item
}

/// The whole macro, on `proc_macro2` tokens so that unit tests can call it.
fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = errors::Errors::default();
    let args = args::parse(args, &mut errors);
    let mut function = match parse::item(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            errors.push(error);
            let errors = errors.to_compile_errors();
            return quote!(#item #errors);
        }
    };
    let routine = validate::routine(&function, &args, &mut errors);
    // Re-emitted without a reported C-variadic `...` or second `#[work_item]`,
    // which rustc would report (or expand) again.
    function.sig.variadic = None;
    function.attrs.retain(|attr| !validate::is_work_item(attr));
    expand::expand(&function, routine.as_ref(), &errors)
}
