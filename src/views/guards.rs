//! The browser half of the route guard: layouts that read the current user (the same answer the
//! server rendered with, so hydration matches) and move people on client-side navigation. On a
//! full page load the server guard has already redirected.

use dioxus::prelude::*;

use crate::auth::{current_user, ApiError, Profile};
use crate::route::Route;

/// The signed-in person as [`SignedInOnly`] read them for this page: the pages inside the layout
/// take the profile from here rather than asking the server a second time (one server call and
/// one copy of the profile in the page's hydration data, not two).
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Profile>, ApiError>>);

impl CurrentUser {
    /// The profile; `None` until the answer is in, or when nobody is signed in.
    pub fn profile(&self) -> Option<Profile> {
        match &*self.0.read() {
            Some(Ok(Some(profile))) => Some(profile.clone()),
            _ => None,
        }
    }
}

/// Wraps [`crate::route::Access::Protected`] routes: without a signed-in person, go to the login
/// page with a way back.
#[component]
pub fn SignedInOnly() -> Element {
    let user = use_server_future(current_user)?;
    use_context_provider(|| CurrentUser(user));
    let route = use_route::<Route>();
    let navigator = navigator();
    let answer = user.read().clone();
    let signed_in = matches!(answer, Some(Ok(Some(_))));
    let failed = matches!(answer, Some(Err(_)));
    use_effect(move || {
        if !signed_in && !failed {
            navigator.replace(Route::login_from(&route.to_string()));
        }
    });
    match answer {
        Some(Ok(Some(_))) => rsx! { Outlet::<Route> {} },
        Some(Err(err)) => rsx! {
            main { class: "page",
                section { class: "card",
                    h1 { "Could not check your sign-in" }
                    p { class: "message error", role: "alert", "{err.message}" }
                    a { class: "button secondary", href: "/", "Try again" }
                }
            }
        },
        _ => rsx! {},
    }
}

/// Wraps [`crate::route::Access::GuestOnly`] routes: a signed-in person is sent home.
#[component]
pub fn GuestOnly() -> Element {
    let user = use_server_future(current_user)?;
    let navigator = navigator();
    let signed_in = matches!(*user.read(), Some(Ok(Some(_))));
    use_effect(move || {
        if signed_in {
            navigator.replace(Route::Home {});
        }
    });
    if signed_in {
        rsx! {}
    } else {
        rsx! { Outlet::<Route> {} }
    }
}
