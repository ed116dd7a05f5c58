//! Syntax -> model, reading only, collecting every independent error, each
//! spanned at the user's token. One module per concern: `signature` (the
//! function as a whole), `role` (stated or read from the signature, and the
//! arguments only some roles take), `shape` (each role's parameters),
//! `context` (the context type), `irql` (the optional IRQL proof) and `syntax` (reading `syn` types).

mod context;
mod irql;
mod role;
mod shape;
mod signature;
mod syntax;

pub(crate) use signature::is_work_item;

use crate::args::Args;
use crate::errors::Errors;
use crate::model::{Role, Routine};
use crate::parse::ItemFn;
use role::Choice;

/// What the function and the arguments say, checked. `None` when no
/// generated item can stand beside the function (a method: the attribute is
/// inside an `impl`).
///
/// Reads `item` only; the caller strips what was reported (a C-variadic
/// `...`, a second `#[work_item]`) from the function it re-emits.
pub(crate) fn routine(item: &ItemFn, args: &Args, errors: &mut Errors) -> Option<Routine> {
    let mut sig = signature::check(item, errors)?;
    let takes_irql = irql::split(&mut sig.params, errors);
    let role = match role::choose(args, &sig.params, errors) {
        Choice::Ex(unload) => Role::Ex(shape::ex(&sig, unload, errors)),
        Choice::Io(object, at) => Role::Io(shape::io(&item.sig.ident, &sig, object, &at, errors)),
        Choice::Wdf(parent) => Role::Wdf(shape::wdf(
            &item.sig.ident,
            item.sig.paren_token.span.join(),
            &sig,
            parent,
            errors,
        )),
    };
    Some(Routine {
        vis: item.vis.clone(),
        ident: item.sig.ident.clone(),
        krate: args
            .krate
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(::ntwork)),
        role,
        takes_irql,
    })
}
