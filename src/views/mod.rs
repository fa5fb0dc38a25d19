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
