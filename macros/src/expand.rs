//! Model -> tokens.
//!
//! Every path is absolute (`::core::...`, `::ntwork::...` or the `crate = path`
//! prefix), every generated item has a doc comment and the function's
//! visibility, and the only `unsafe` is forwarding: the trampolines live in
//! `ntwork::__private`.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::errors::Errors;
use crate::model::{IoObjectKind, Role, Routine};
use crate::parse::ItemFn;

/// The function, the generated items (stand-ins if there are errors), and the errors.
pub(crate) fn expand(function: &ItemFn, routine: Option<&Routine>, errors: &Errors) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        body,
    } = function;
    let items = routine
        .map(|routine| items(routine, errors.count() > 0))
        .unwrap_or_default();
    let errors = errors.to_compile_errors();
    quote! {
        #(#attrs)*
        #vis #sig #body
        #items
        #errors
    }
}

/// Names of the generated parameters: hygienic, so a user's `const context`
/// cannot turn them into patterns; `_`-prefixed in stand-ins, whose bodies
/// do not use them.
struct Names {
    context: Ident,
    device: Ident,
    item: Ident,
    queue: Ident,
}

impl Names {
    fn new(stand_in: bool) -> Self {
        let name = |name: &str| {
            let name = if stand_in {
                format!("_{name}")
            } else {
                name.to_owned()
            };
            Ident::new(&name, Span::mixed_site())
        };
        Names {
            context: name("context"),
            device: name("object"),
            item: name("item"),
            queue: name("queue"),
        }
    }
}

fn items(routine: &Routine, stand_in: bool) -> TokenStream {
    let Routine {
        vis,
        ident,
        role,
        context,
        krate,
        ..
    } = routine;
    let names = Names::new(stand_in);
    let Names {
        context: ctx,
        device,
        item,
        queue,
    } = &names;
    // The generated functions are "defined" at the user's function name, so
    // rustc's "associated function defined here" notes point at it.
    let at_user = |name: &str| Ident::new(name, Span::call_site().located_at(ident.span()));
    let (new_fn, queue_fn, initialize_fn) =
        (at_user("new"), at_user("queue"), at_user("initialize"));

    // The context type, and whether the stand-ins must be generic over it.
    let in_signatures = context.as_ref().is_none_or(|context| context.in_signatures);
    let generic_param = Ident::new("C", Span::mixed_site());
    let (c_ty, c_span) = match context {
        Some(context) if context.usable => (context.ty.clone(), context.span),
        Some(context) => (quote!(()), context.span),
        None => (quote!(()), Span::call_site()),
    };
    // The helpers' context parameter: the user's type while it is valid (even
    // if not `Send`), else, in stand-ins, any `C`.
    let (generics, param_ty) = match context {
        Some(context) if in_signatures => (quote!(), context.ty.clone()),
        None => (quote!(), c_ty.clone()),
        Some(_) => (quote!(<#generic_param>), quote!(#generic_param)),
    };
    let has_context = context.is_some();
    let ctx_param = if has_context {
        quote!(#ctx: #param_ty,)
    } else {
        quote!()
    };
    let ctx_arg = if has_context {
        quote!(#ctx)
    } else {
        quote!(())
    };
    // Under the user's type, so "`Rc<..>` cannot be sent between threads
    // safely" and "does not live long enough" point at it.
    let assoc = quote_spanned! {c_span=> type Context = #c_ty; };

    let name = ident.to_string();
    let struct_doc = format!(
        " The work item routine `{name}`: names it in generic code (`{}<{name}>`), with its `ROUTINE` trampoline and queueing helpers.",
        match role {
            Role::Ex { .. } => "ExWorkItem",
            Role::Wdf { .. } => "ntwork::wdf::WdfWorkItem",
            Role::Device | Role::DeviceEx => "IoWorkItem",
        }
    );
    let new_result_doc = "On low resources the error holds the context.";
    let queue_doc = format!(
        " Allocates an item for `{name}` and queues it on `queue` (callable at IRQL <= `DISPATCH_LEVEL`). {new_result_doc}"
    );
    let body = |real: TokenStream| {
        if stand_in {
            quote!({ loop {} })
        } else {
            quote!({ #real })
        }
    };

    let role_items = match role {
        Role::Ex { borrowed } => {
            let run = if stand_in {
                quote!(
                    fn run(_: Self::Context) {
                        loop {}
                    }
                )
            } else {
                match (borrowed, has_context) {
                    (_, false) => quote!(fn run((): Self::Context) { #ident() }),
                    (true, true) => quote!(fn run(#ctx: Self::Context) { #ident(&#ctx) }),
                    (false, true) => quote!(fn run(#ctx: Self::Context) { #ident(#ctx) }),
                }
            };
            let run_ref = match (borrowed, stand_in, has_context) {
                (false, _, _) => quote!(),
                (true, true, _) => quote!(
                    fn run_ref(_: &Self::Context) {
                        loop {}
                    }
                ),
                (true, false, false) => quote!(fn run_ref(_: &Self::Context) { #ident() }),
                (true, false, true) => quote!(fn run_ref(#ctx: &Self::Context) { #ident(#ctx) }),
            };
            let ref_impl = if *borrowed {
                quote! {
                    impl #krate::ExRoutineRef for #ident {
                        #run_ref
                    }
                }
            } else {
                quote!()
            };
            let routine_doc = format!(
                " The `WORKER_THREAD_ROUTINE` of `{name}`. Its `Parameter` must come from `{name}::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `{name}`, and frees it."
            );
            let initialize_doc = format!(
                " The typed `ExInitializeWorkItem` for `{name}`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. {new_result_doc}\n\n# Safety\n\n`item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back)."
            );
            let initialize_doc = doc_lines(&initialize_doc);
            let new_doc = format!(
                " An owned one-shot item for `{name}`, holding its context. {new_result_doc}"
            );
            let initialize_body = body(
                quote!(unsafe { #krate::__private::ex_initialize::<#ident>(#item, #ctx_arg) }),
            );
            let new_body = body(quote!(#krate::ExWorkItem::new(#ctx_arg)));
            let rundown = Ident::new(
                if stand_in { "_rundown" } else { "rundown" },
                Span::mixed_site(),
            );
            let queue_body =
                body(quote!(#krate::__private::ex_queue::<#ident>(#rundown, #ctx_arg, #queue)));
            let ex_queue_doc = format!(
                " Allocates an item for `{name}` and queues it on `queue`, counted in `rundown` until the routine returns (callable at IRQL <= `DISPATCH_LEVEL`). On low resources, or once the rundown has started, the error holds the context."
            );
            let routine_fn = routine_fn(krate, vis, stand_in);
            quote! {
                impl #krate::ExRoutine for #ident {
                    #run
                }
                #ref_impl
                impl #ident {
                    #[doc = #routine_doc]
                    #vis const ROUTINE: #krate::ffi::WORKER_THREAD_ROUTINE = <#ident as #krate::ExRoutine>::ROUTINE;

                    #routine_fn

                    #initialize_doc
                    #vis unsafe fn #initialize_fn #generics(
                        #item: *mut #krate::ffi::WORK_QUEUE_ITEM,
                        #ctx_param
                    ) -> ::core::result::Result<(), #krate::AllocError<#param_ty>> #initialize_body

                    #[doc = #new_doc]
                    #vis fn #new_fn #generics(#ctx_param) -> ::core::result::Result<#krate::ExWorkItem<#ident>, #krate::AllocError<#param_ty>> #new_body

                    #[doc = #ex_queue_doc]
                    #vis fn #queue_fn #generics(#rundown: &'static #krate::Rundown, #ctx_param #queue: #krate::WorkQueue) -> ::core::result::Result<(), #krate::QueueError<#param_ty>> #queue_body
                }
            }
        }
        Role::Wdf { takes_item } => {
            let item_ty = quote!(#krate::wdf::RunningWdfWorkItem<'_, Self>);
            let run = if stand_in {
                quote!(fn run(_: &#item_ty) { loop {} })
            } else if *takes_item {
                quote!(fn run(#item: &#item_ty) { #ident(#item.context(), #item) })
            } else {
                quote!(fn run(#item: &#item_ty) { #ident(#item.context()) })
            };
            let info = Ident::new("INFO", Span::mixed_site());
            let c_name = proc_macro2::Literal::c_string(
                &std::ffi::CString::new(format!("{name}_CONTEXT")).unwrap_or_default(),
            );
            let create_fn = at_user("create");
            let parent_ty = Ident::new(
                match routine.wdf_parent {
                    crate::args::WdfParentKind::Device => "WdfDevice",
                    crate::args::WdfParentKind::Queue => "WdfQueue",
                },
                Span::call_site(),
            );
            let create_doc = format!(
                " Creates a KMDF work item for `{name}` under `parent` (`WdfWorkItemCreate`), with the context moved into its context space. IRQL <= `DISPATCH_LEVEL`."
            );
            let (parent, serialization) = if stand_in {
                (
                    Ident::new("_parent", Span::mixed_site()),
                    Ident::new("_serialization", Span::mixed_site()),
                )
            } else {
                (
                    Ident::new("parent", Span::mixed_site()),
                    Ident::new("serialization", Span::mixed_site()),
                )
            };
            let create_body =
                body(quote!(#krate::wdf::WdfWorkItem::create(#parent, #ctx, #serialization)));
            // Under the user's type, so "`Cell<u32>` cannot be shared between
            // threads safely" (the `Sync` the trait asks of the context) points at it.
            let wdf_routine = respan(quote!(#krate::wdf::WdfRoutine), c_span);
            quote! {
                impl #wdf_routine for #ident {
                    type Parent = #krate::wdf::#parent_ty;
                    const CONTEXT_TYPE: &'static #krate::wdf::ContextType = {
                        static #info: #krate::wdf::ContextType =
                            #krate::wdf::ContextType::new::<#ident>(#c_name, &#info);
                        &#info
                    };
                    #run
                }
                impl #ident {
                    #[doc = #create_doc]
                    #vis fn #create_fn #generics(
                        #parent: &#krate::wdf::#parent_ty,
                        #ctx: #param_ty,
                        #serialization: #krate::wdf::Serialization,
                    ) -> ::core::result::Result<#krate::wdf::WdfWorkItem<#ident>, #krate::wdf::CreateError<#param_ty>> #create_body
                }
            }
        }
        Role::Device | Role::DeviceEx => {
            let takes_item = *role == Role::DeviceEx;
            let object_name = Ident::new(routine.object.type_name(), Span::call_site());
            let object_ty = quote!(#krate::#object_name);
            // The plain IO_WORKITEM_ROUTINE gets NULL for a driver-object item.
            let classic_routine = routine.object == IoObjectKind::Device;
            let run = if stand_in {
                quote!(fn run(_: &#object_ty, _: Self::Context, _: #krate::RunningIoWorkItem<'_, Self>) { loop {} })
            } else {
                let call_ctx = if has_context { quote!(#ctx,) } else { quote!() };
                let ctx_pat = if has_context {
                    quote!(#ctx)
                } else {
                    quote!(())
                };
                let call = if takes_item {
                    quote!(#ident(#device, #call_ctx #item.keep());)
                } else {
                    quote!(#ident(#device, #call_ctx); ::core::mem::drop(#item);)
                };
                quote! {
                    fn run(#device: &#object_ty, #ctx_pat: Self::Context, #item: #krate::RunningIoWorkItem<'_, Self>) {
                        #call
                    }
                }
            };
            let routine_doc = format!(
                " The `{}` of `{name}`, for `{}`. Its `Context` must come from `ntwork::raw::into_parameter` with the routine's context; it takes the context back and runs `{name}`.",
                if takes_item {
                    "IO_WORKITEM_ROUTINE_EX"
                } else {
                    "IO_WORKITEM_ROUTINE"
                },
                if takes_item {
                    "IoQueueWorkItemEx"
                } else {
                    "IoQueueWorkItem"
                },
            );
            let routine_const = if takes_item || stand_in || !classic_routine {
                quote!()
            } else {
                quote! {
                    #[doc = #routine_doc]
                    #vis const ROUTINE: #krate::ffi::IO_WORKITEM_ROUTINE = <#ident as #krate::__private::IoClassicRoutine>::ROUTINE;
                }
            };
            let io_routine_fn = if takes_item {
                quote!()
            } else {
                routine_fn(krate, vis, stand_in)
            };
            let classic_impl = if classic_routine {
                quote!(impl #krate::__private::IoClassicRoutine for #ident {})
            } else {
                quote!()
            };
            let classic = if takes_item {
                quote!()
            } else if stand_in {
                // So a reusable Io item of a routine with an error in its
                // signature adds no "takes its own work item" error.
                quote! {
                    impl #krate::IoRoutineWithoutItem for #ident {
                        fn run_without_item(_: &#object_ty, _: Self::Context) {
                            loop {}
                        }
                    }
                    #classic_impl
                }
            } else {
                let call = if has_context {
                    quote!(#ident(#device, #ctx))
                } else {
                    quote!(#ident(#device))
                };
                let ctx_pat = if has_context {
                    quote!(#ctx)
                } else {
                    quote!(())
                };
                quote! {
                    impl #krate::IoRoutineWithoutItem for #ident {
                        fn run_without_item(#device: &#object_ty, #ctx_pat: Self::Context) {
                            #call
                        }
                    }
                    #classic_impl
                }
            };
            // Device routines have no Ex initializer; this stand-in makes calling one
            // a single error naming IoQueueWorkItem instead of "no function named".
            let ex_initializer = if stand_in {
                quote!()
            } else {
                quote! {
                    #[doc(hidden)]
                    /// Device-bound routines have no Ex initializer: queue them with `queue(device, ...)`.
                    ///
                    /// # Safety
                    ///
                    /// Never callable: `Self` is device-bound.
                    #vis unsafe fn #initialize_fn<#generic_param>(
                        #item: *mut #krate::ffi::WORK_QUEUE_ITEM,
                        #ctx: #generic_param,
                    ) -> ::core::result::Result<(), #krate::AllocError<#generic_param>>
                    where
                        Self: #krate::__private::ExInitializer<#generic_param>,
                    {
                        unsafe { <Self as #krate::__private::ExInitializer<#generic_param>>::initialize(#item, #ctx) }
                    }
                }
            };
            let new_doc = format!(
                " An Io work item for `{name}` bound to the {} object (`IoAllocateWorkItem`); `Err` on low resources.",
                if classic_routine { "device" } else { "driver" }
            );
            let new_body = body(quote!(#krate::IoWorkItem::new(#device)));
            let queue_body =
                body(quote!(#krate::__private::io_queue::<#ident>(#device, #ctx_arg, #queue)));
            quote! {
                impl #krate::IoRoutine for #ident {
                    type Object = #object_ty;
                    #run
                }
                #classic
                impl #ident {
                    #routine_const

                    #io_routine_fn

                    #ex_initializer

                    #[doc = #new_doc]
                    #vis fn #new_fn(#device: &#object_ty) -> ::core::result::Result<#krate::IoWorkItem<#ident>, #krate::AllocError> #new_body

                    #[doc = #queue_doc]
                    #vis fn #queue_fn #generics(#device: &#object_ty, #ctx_param #queue: #krate::WorkQueue) -> ::core::result::Result<(), #krate::AllocError<#param_ty>> #queue_body
                }
            }
        }
    };

    // The type is "defined" at the function's name too, so "the trait `ExRoutine`
    // is not implemented for `name`" points at the function.
    let struct_token = at_user("struct");
    let mut braces = Group::new(Delimiter::Brace, TokenStream::new());
    braces.set_span(struct_token.span());
    // The impls ride on the struct (`__private::with_items` emits them after
    // it): inside an `impl` block rustc drops the struct with its attributes,
    // so a misplaced `#[work_item]` is the one "struct is not supported" error.
    quote! {
        #[#krate::__private::with_items(
            impl #krate::Routine for #ident {
                #assoc
            }
            #role_items
        )]
        #[allow(non_camel_case_types)]
        #[doc = #struct_doc]
        #vis #struct_token #ident #braces
    }
}

/// `name::routine::<T>()`: the raw-protocol routine in the pointer type `T`
/// of whichever binding the caller uses (ntwork's, wdk-sys's, windows-sys's).
fn routine_fn(krate: &TokenStream, vis: &TokenStream, stand_in: bool) -> TokenStream {
    if stand_in {
        return quote!();
    }
    let t = Ident::new("__NtworkRoutineType", Span::mixed_site());
    quote! {
        /// The raw-protocol routine in the routine pointer type `T` of a
        /// binding: `ntwork::ffi`'s, wdk-sys's (`extern "C"` on x86_64 and
        /// aarch64) or windows-sys's; the same contract as `ROUTINE`. See
        /// `ntwork::abi`.
        #[must_use]
        #vis fn routine<#t: #krate::abi::RoutineType<Self>>() -> #t {
            <#t as #krate::abi::RoutineType<Self>>::of()
        }
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

/// A multi-line doc comment as one `#[doc]` per line, as `///` lines would be.
fn doc_lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        if line.is_empty() || line.starts_with(' ') {
            line.to_owned()
        } else {
            format!(" {line}")
        }
    });
    quote!(#(#[doc = #lines])*)
}
