//! The pages, one file each, and the layouts that enforce each route's access in the browser.

mod guards;
mod home;
mod login;
mod not_found;

pub use guards::{GuestOnly, SignedInOnly};
pub use home::Home;
pub use login::{Login, WechatCallback};
pub use not_found::NotFound;

use dioxus::prelude::*;

/// `false` in the server-rendered page and until the browser's client has taken over, then
/// `true`. Buttons that need the client stay disabled until then, so nothing is pressed in vain
/// and nothing submits natively; the page keeps its layout either way.
pub fn use_hydrated() -> Signal<bool> {
    let mut ready = use_signal(|| false);
    use_effect(move || ready.set(true));
    ready
}

/// The page's `<title>`. The server writes it into the page with Dioxus' `document::Title`; in
/// the browser that component would set it by evaluating a string of JavaScript, which the
/// pages' Content-Security-Policy forbids (no `'unsafe-eval'`), so the browser sets it through
/// the DOM instead (it matters after client-side navigation between pages).
#[component]
pub fn PageTitle(text: &'static str) -> Element {
    #[cfg(all(feature = "web", not(feature = "server")))]
    {
        use_hook(move || {
            if let Some(document) = web_sys::window().and_then(|w| w.document()) {
                document.set_title(text);
            }
        });
        rsx! {}
    }
    #[cfg(not(all(feature = "web", not(feature = "server"))))]
    rsx! {
        document::Title { "{text}" }
    }
}
