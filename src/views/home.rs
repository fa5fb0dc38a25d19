//! The welcome page for a signed-in person: who they are, and a way to sign out.

use dioxus::prelude::*;

use super::guards::CurrentUser;
use super::{use_hydrated, PageTitle};
use crate::auth::{sign_out, Profile};
use crate::route::Route;

/// Rendered only inside [`super::SignedInOnly`], which shows it once someone is signed in.
#[component]
pub fn Home() -> Element {
    let user = use_context::<CurrentUser>();
    rsx! {
        PageTitle { text: "Welcome" }
        main { class: "page",
            section { class: "card",
                match user.profile() {
                    Some(profile) => rsx! { Welcome { profile } },
                    None => rsx! { p { class: "muted", "Loading…" } },
                }
            }
        }
    }
}

#[component]
fn Welcome(profile: Profile) -> Element {
    let navigator = navigator();
    let ready = use_hydrated();
    let mut busy = use_signal(|| false);
    let mut error = use_signal(|| None::<String>);
    let initial = profile
        .name
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    let via = match profile.provider.as_deref() {
        Some("wx_open") => Some("Signed in with WeChat"),
        Some("phone") => Some("Signed in with an SMS code"),
        _ => None,
    };

    let on_sign_out = move |_| async move {
        busy.set(true);
        error.set(None);
        match sign_out().await {
            // A full page load: nothing of the signed-in page stays in memory.
            Ok(done) => {
                navigator.replace(NavigationTarget::<Route>::External(done.redirect));
            }
            Err(err) => {
                error.set(Some(err.message));
                busy.set(false);
            }
        }
    };

    rsx! {
        div { class: "profile",
            match profile.avatar_url.as_deref() {
                Some(url) => rsx! {
                    img { class: "avatar", src: "{url}", alt: "", width: "72", height: "72", referrerpolicy: "no-referrer" }
                },
                None => rsx! { div { class: "avatar initial", "aria-hidden": "true", "{initial}" } },
            }
            h1 { id: "welcome", "Welcome, {profile.name}" }
            if let Some(phone) = profile.phone_masked.as_deref() {
                p { class: "muted", id: "phone", "{phone}" }
            }
            if let Some(via) = via {
                p { class: "muted small", "{via}" }
            }
        }
        if let Some(error) = error() {
            p { class: "message error", role: "alert", "{error}" }
        }
        button {
            id: "sign-out",
            class: "button secondary",
            r#type: "button",
            disabled: !ready() || busy(),
            "aria-busy": busy(),
            onclick: on_sign_out,
            if busy() { "Signing out…" } else { "Sign out" }
        }
    }
}
