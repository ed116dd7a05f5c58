//! The `#[work_item]` attribute of ntwork (placeholder).
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_attribute]
pub fn work_item(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
