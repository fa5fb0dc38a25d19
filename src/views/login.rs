//! The sign-in page: a phone number, a code sent by SMS, and plain-words errors.

use std::time::Duration;

use dioxus::prelude::*;

use super::{use_hydrated, PageTitle};
use crate::auth::{
    encode_query_value, sanitize_from, send_code, verify_code, ApiJson, Phone, SendCodeRequest,
    VerifyCodeRequest, HOME,
};
use crate::route::{LoginQuery, Route};

/// Sentences for the error codes that server-side redirects put in `?error=`.
pub fn login_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "wechat_cancelled" => "WeChat sign-in was cancelled.",
        "wechat_state" => {
            "That WeChat sign-in link has expired or was already used. Please try again."
        }
        "wechat_failed" => "WeChat sign-in did not work. Please try again.",
        "session_expired" => "Your session has ended. Please sign in again.",
        _ => return None,
    })
}

#[component]
pub fn Login(query: LoginQuery) -> Element {
    let navigator = navigator();
    let mut phone = use_signal(String::new);
    let mut code = use_signal(String::new);
    // Seconds until another code may be requested; ticks down in the browser.
    let mut wait = use_signal(|| 0u64);
    let mut sending = use_signal(|| false);
    let mut verifying = use_signal(|| false);
    let mut code_sent = use_signal(|| false);
    let mut notice = use_signal(|| None::<String>);
    let initial_error = query
        .error
        .as_deref()
        .and_then(login_error_message)
        .map(str::to_owned);
    let mut error = use_signal(move || initial_error);
    let ready = use_hydrated();
    use_future(move || async move {
        loop {
            sleep(Duration::from_secs(1)).await;
            if wait() > 0 {
                wait -= 1;
            }
        }
    });

    let on_send = move |_| async move {
        error.set(None);
        notice.set(None);
        let number = match Phone::parse(&phone()) {
            Ok(number) => number,
            Err(err) => {
                error.set(Some(err.to_string()));
                return;
            }
        };
        sending.set(true);
        let answer = send_code(ApiJson(SendCodeRequest { phone: phone() })).await;
        sending.set(false);
        match answer {
            Ok(sent) => {
                wait.set(sent.resend_after_secs);
                code_sent.set(true);
                notice.set(Some(format!(
                    "We sent a code to {}. It is valid for {} minutes.",
                    number.masked(),
                    sent.expires_in_secs.div_ceil(60)
                )));
            }
            Err(err) => {
                if let Some(secs) = err.retry_after_secs {
                    wait.set(secs);
                }
                error.set(Some(err.message));
            }
        }
    };

    let wechat_href = format!(
        "/api/auth/wechat/start?from={}",
        encode_query_value(&sanitize_from(query.from.as_deref().unwrap_or(HOME)))
    );
    let from = query.from.clone();
    let on_verify = move |event: FormEvent| {
        let from = from.clone();
        async move {
            event.prevent_default();
            error.set(None);
            if let Err(err) = Phone::parse(&phone()) {
                error.set(Some(err.to_string()));
                return;
            }
            verifying.set(true);
            let request = VerifyCodeRequest {
                phone: phone(),
                code: code().trim().to_owned(),
                from,
            };
            match verify_code(ApiJson(request)).await {
                // A full page load of exactly the return address (query included), rendered
                // by the server with the new session; sanitised here too, so that the browser
                // never leaves the site whatever the answer says.
                Ok(done) => {
                    navigator.replace(NavigationTarget::<Route>::External(sanitize_from(
                        &done.redirect,
                    )));
                }
                Err(err) => {
                    error.set(Some(err.message));
                    verifying.set(false);
                }
            }
        }
    };

    let send_label = if sending() {
        "Sending…".to_owned()
    } else if wait() > 0 {
        format!("Resend in {} s", wait())
    } else if code_sent() {
        "Resend code".to_owned()
    } else {
        "Get code".to_owned()
    };

    rsx! {
        PageTitle { text: "Sign in" }
        main { class: "page",
            section { class: "card", "aria-labelledby": "title",
                h1 { id: "title", "Sign in" }
                p { class: "muted", "We will text you a 6-digit code." }
                form { id: "sms-form", novalidate: true, onsubmit: on_verify,
                    label { r#for: "phone", "Phone number" }
                    div { class: "row",
                        div { class: "phone-field",
                            span { class: "prefix", "aria-hidden": "true", "+86" }
                            input {
                                id: "phone",
                                name: "phone",
                                r#type: "tel",
                                inputmode: "tel",
                                autocomplete: "tel-national",
                                placeholder: "138 0013 8000",
                                maxlength: "20",
                                required: true,
                                value: "{phone}",
                                oninput: move |e| phone.set(e.value()),
                            }
                        }
                        button {
                            id: "send-code",
                            class: "button secondary",
                            r#type: "button",
                            disabled: !ready() || sending() || wait() > 0,
                            "aria-busy": sending(),
                            onclick: on_send,
                            "{send_label}"
                        }
                    }
                    label { r#for: "code", "Verification code" }
                    input {
                        id: "code",
                        name: "code",
                        r#type: "text",
                        inputmode: "numeric",
                        autocomplete: "one-time-code",
                        pattern: "[0-9]*",
                        maxlength: "6",
                        placeholder: "6 digits",
                        required: true,
                        value: "{code}",
                        oninput: move |e| code.set(e.value()),
                    }
                    button {
                        id: "sign-in",
                        class: "button",
                        r#type: "submit",
                        disabled: !ready() || verifying(),
                        "aria-busy": verifying(),
                        if verifying() { "Signing in…" } else { "Sign in" }
                    }
                }
                div { class: "divider", span { "or" } }
                a { id: "wechat", class: "button wechat", href: "{wechat_href}",
                    "Sign in with WeChat"
                }
                div { class: "messages", "aria-live": "polite",
                    if let Some(err) = error() {
                        p { id: "error", class: "message error", role: "alert", "{err}" }
                    } else if let Some(text) = notice() {
                        p { id: "notice", class: "message notice", "{text}" }
                    }
                }
            }
        }
    }
}

/// Waits in the browser; on the server (where nothing ticks during rendering) never finishes.
async fn sleep(duration: Duration) {
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    gloo_timers::future::sleep(duration).await;
    #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
    {
        let _ = duration;
        std::future::pending::<()>().await;
    }
}

/// Shown only if the browser's router lands on the WeChat callback path; the server handles
/// real callbacks before the app renders.
#[component]
pub fn WechatCallback(query: String) -> Element {
    let _ = query;
    rsx! {
        main { class: "page",
            section { class: "card",
                h1 { "Signing you in…" }
                a { class: "button secondary", href: "/login", "Back to sign in" }
            }
        }
    }
}
