//! The root component: the stylesheet and the router.

use dioxus::prelude::*;

use crate::route::Route;

/// Inlined so that the server-rendered page is styled before anything else loads: no unstyled
/// flash and no layout jump while the client hydrates.
const STYLE: &str = include_str!("../assets/main.css");
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='8' fill='%230052d9'/%3E%3Cpath d='M9 17l5 5 9-11' stroke='white' stroke-width='3' fill='none' stroke-linecap='round'/%3E%3C/svg%3E";

/// The page template when the server runs without the Dioxus CLI's bundle (which brings its own).
pub const BARE_INDEX_HTML: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Sign in</title>\n</head>\n<body>\n<div id=\"main\"></div>\n</body>\n</html>\n";

#[component]
pub fn App() -> Element {
    rsx! {
        document::Meta { name: "viewport", content: "width=device-width, initial-scale=1" }
        document::Link { rel: "icon", href: FAVICON }
        document::Style { {STYLE} }
        Router::<Route> {}
    }
}
