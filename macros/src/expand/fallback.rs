//! After an error: the role's plan as stand-ins. Same traits, same helper
//! signatures (so the user's calls still type-check and add no errors),
//! bodies `loop {}` and parameters `_`-named; the helpers that only make
//! sense for a valid routine are left out.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Frame, Kept, Names, plan, render};

pub(super) fn stand_ins(frame: &Frame<'_>) -> TokenStream {
    render(
        frame,
        plan(frame, &Names::unused()),
        &|_| quote!(loop {}),
        &|kept| kept == Kept::Always,
    )
}
