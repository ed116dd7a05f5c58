//! The error collector: every independent error, each at the user's token,
//! combined into one `compile_error!` list; the count lets the expansion
//! decide between the real items and the stand-ins.

use proc_macro2::TokenStream;

/// Every error found so far, combined into one.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
    count: usize,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// How many errors were recorded.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The errors as `compile_error!` invocations (empty if there are none).
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.combined
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}
