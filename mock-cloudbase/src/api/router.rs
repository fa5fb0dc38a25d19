//! The one `wiremock::Respond` of the stub: records the call, applies a queued fault, and hands the request to
//! the endpoint's handler.

use std::sync::Arc;

use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

use super::{controls, http, provider, session, sms, user};
use crate::choices;
use crate::error::ApiError;
use crate::state::Shared;
use crate::types::{Endpoint, Fault, RecordedCall};

/// Routes every request that no test-mounted mock took.
pub(crate) struct Router {
    shared: Arc<Shared>,
}

impl Router {
    pub fn new(shared: Arc<Shared>) -> Router {
        Router { shared }
    }
}

impl Respond for Router {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let is_control = path == "/__mock" || path.starts_with("/__mock/");
        if !is_control {
            self.shared.state.lock().record_call(recorded(request));
        }
        if request.body.len() > choices::MAX_BODY_BYTES {
            return ApiError::new(
                choices::BODY_TOO_LARGE,
                format!(
                    "request body is {} bytes; the limit is {} bytes",
                    request.body.len(),
                    choices::MAX_BODY_BYTES
                ),
            )
            .into_template();
        }
        if is_control {
            return http::into_template(controls::handle(&self.shared, request));
        }

        let Some(endpoint) = Endpoint::for_path(path) else {
            return ApiError::new(choices::NOT_FOUND, format!("no such path: {path}"))
                .into_template();
        };
        if request.method.as_str() != endpoint.method() {
            return ApiError::new(
                choices::UNIMPLEMENTED,
                format!(
                    "{path} expects {}, not {}",
                    endpoint.method(),
                    request.method.as_str()
                ),
            )
            .into_template();
        }
        let fault = self.shared.state.lock().take_fault(endpoint);
        let delay = match fault {
            None => None,
            Some(Fault::Delay(by)) => Some(by),
            Some(fault) => return fault_template(fault),
        };
        let answer = dispatch(endpoint, &self.shared, request).map(http::Reply::Json);
        let template = http::into_template(answer);
        match delay {
            Some(by) => template.set_delay(by),
            None => template,
        }
    }
}

fn dispatch(endpoint: Endpoint, shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    match endpoint {
        Endpoint::SendVerification => sms::send(shared, request),
        Endpoint::Verify => sms::verify(shared, request),
        Endpoint::SignIn => session::sign_in(shared, request),
        Endpoint::SignUp => session::sign_up(shared, request),
        Endpoint::ProviderUri => provider::uri(shared, request),
        Endpoint::ProviderToken => provider::token(shared, request),
        Endpoint::SignInWithProvider => provider::sign_in(shared, request),
        Endpoint::UserMe => user::me(shared, request),
        Endpoint::Token => session::refresh(shared, request),
        Endpoint::Revoke => session::revoke(shared, request),
        Endpoint::Introspect => session::introspect(shared, request),
        Endpoint::Certs => session::certs(shared, request),
    }
}

/// The answer of a fault other than a delay.
fn fault_template(fault: Fault) -> ResponseTemplate {
    match fault {
        Fault::Envelope { status, error, error_code, description } => {
            ApiError { status, error, error_code, description, retry_after: None }.into_template()
        }
        Fault::Status(status) => {
            ApiError::new(choices::kind_for_status(status), format!("injected fault: HTTP {status}"))
                .into_template()
        }
        Fault::NonJson => ResponseTemplate::new(502).set_body_raw(
            "<html><head><title>502 Bad Gateway</title></head>\
             <body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            "text/html",
        ),
        // A delay answers normally; the router handles it before coming here.
        Fault::Delay(_) => ResponseTemplate::new(200),
    }
}

/// The call as `calls()` reports it. Bodies over the size limit are not kept.
fn recorded(request: &Request) -> RecordedCall {
    let body = if request.body.len() > choices::MAX_BODY_BYTES {
        Value::String(format!("<{} bytes, not kept>", request.body.len()))
    } else if http::body_is_empty(request) {
        Value::Null
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
    };
    RecordedCall {
        method: request.method.as_str().to_owned(),
        path: request.url.path().to_owned(),
        query: request.url.query().map(str::to_owned),
        headers: request
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    }
}
