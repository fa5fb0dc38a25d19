//! The page for any path the app does not know.

use dioxus::prelude::*;

use super::PageTitle;

#[component]
pub fn NotFound(segments: Vec<String>) -> Element {
    #[cfg(feature = "server")]
    dioxus::fullstack::FullstackContext::commit_http_status(
        dioxus::fullstack::StatusCode::NOT_FOUND,
        None,
    );
    let _ = segments;
    rsx! {
        PageTitle { text: "Page not found" }
        main { class: "page",
            section { class: "card",
                h1 { "Page not found" }
                p { class: "muted", "There is nothing at this address." }
                a { class: "button", href: "/", "Go to the home page" }
            }
        }
    }
}
