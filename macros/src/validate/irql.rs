//! The routine's IRQL proof: an optional last parameter `irql: &Passive<'_>`
//! (or `&mut Passive<'_>`, to take a spin lock with it). A system worker
//! thread runs every work-item routine at PASSIVE_LEVEL, so the trampoline
//! lends the body that proof; the routine's ABI is unchanged.

use quote::quote;
use syn::{PatType, Type};

use super::syntax::{error, last_segment, names_trait, peel, positions, referent};
use crate::errors::Errors;

/// The fix every message names.
const SHAPE: &str = "`irql: &Passive<'_>`, after the other parameters";

/// Removes the proof parameters from `params`; returns whether the routine
/// takes one. Each misuse (a proof by value, by `&mut`, of another level, not
/// last, twice) is one error at its parameter.
pub(super) fn split(params: &mut Vec<&PatType>, errors: &mut Errors) -> bool {
    let at = positions(params, |ty| proof_level(ty).is_some());
    for (n, &position) in at.iter().enumerate() {
        let param = params[position];
        if n > 0 {
            errors.push(error(
                param,
                "a work-item routine takes one IRQL proof: remove this one (the routine runs at PASSIVE_LEVEL throughout)",
            ));
        } else if position + 1 != params.len() {
            errors.push(error(
                param,
                format!("the IRQL proof comes last in a work-item routine: {SHAPE}"),
            ));
        } else {
            check(&param.ty, errors);
        }
    }
    let takes = !at.is_empty();
    let mut position = 0;
    params.retain(|_| {
        position += 1;
        !at.contains(&(position - 1))
    });
    takes
}

/// `&Passive<'_>` or `&mut Passive<'_>`: lent, and the level a worker
/// thread runs at.
fn check(ty: &Type, errors: &mut Errors) {
    let Type::Reference(reference) = peel(ty) else {
        errors.push(error(
            ty,
            format!(
                "the worker thread lends the IRQL proof for the call: take it by reference, {SHAPE}"
            ),
        ));
        return;
    };
    if let Type::ImplTrait(bound) = peel(&reference.elem) {
        errors.push(error(
            bound,
            format!("a work-item routine is lent a concrete proof, not any proof of a level (`impl AtPassive` is for helpers the routine calls): take {SHAPE}"),
        ));
        return;
    }
    if let Some(level) = proof_level(&reference.elem)
        && level != "Passive"
    {
        let elem = &reference.elem;
        errors.push(error(
            quote!(#elem),
            format!("a work-item routine runs at PASSIVE_LEVEL (a system worker thread), not at the level `{level}` proves: take {SHAPE}; a `&Passive` is accepted wherever `AtMostApc` or `AtMostDispatch` is asked"),
        ));
    }
}

/// `Passive`, `Apc` or `Dispatch` when `ty` names an IRQL proof of ntwork's
/// (a path ending in it, behind any references).
fn proof_level(ty: &Type) -> Option<&'static str> {
    let ty = referent(ty);
    if let Type::ImplTrait(bound) = ty {
        // `impl AtPassive` (or `AtMostApc`, `AtMostDispatch`): a helper's
        // proof, written on a routine.
        let proof = bound
            .bounds
            .iter()
            .any(|bound| names_trait(bound, &PROOF_TRAITS));
        return proof.then_some("Passive");
    }
    let segment = last_segment(ty)?;
    ["Passive", "Apc", "Dispatch"]
        .into_iter()
        .find(|level| segment.ident == level)
}

/// The traits a helper takes its proof as (`irql: &impl AtPassive`).
const PROOF_TRAITS: [&str; 3] = ["AtPassive", "AtMostApc", "AtMostDispatch"];
