//! Reading requests and writing answers, the same way for every endpoint: JSON bodies whatever their
//! Content-Type, the `x-device-id` and bearer headers, query parameters, and the kinds of answer.

use serde::de::DeserializeOwned;
use serde_json::Value;
use wiremock::{Request, ResponseTemplate};

use crate::choices;
use crate::error::ApiError;

/// What a route answers.
pub(crate) enum Reply {
    /// 200 with a JSON body.
    Json(Value),
    /// 200 with an HTML page (the fake WeChat QR page only).
    Html(String),
    /// 200 with an SVG image (the fake WeChat avatar only).
    Svg(String),
    /// 302 to this absolute URL.
    Redirect(String),
}

impl Reply {
    pub fn into_template(self) -> ResponseTemplate {
        match self {
            Reply::Json(body) => ResponseTemplate::new(200).set_body_json(body),
            Reply::Html(page) => ResponseTemplate::new(200)
                .set_body_raw(page, "text/html; charset=utf-8")
                .insert_header("cache-control", "no-store"),
            Reply::Svg(image) => ResponseTemplate::new(200).set_body_raw(image, "image/svg+xml"),
            // Every Location the stub writes comes from `url::Url`, whose serialisation is percent-encoded
            // ASCII: a valid header value.
            Reply::Redirect(location) => ResponseTemplate::new(302)
                .insert_header("location", location.as_str())
                .insert_header("cache-control", "no-store"),
        }
    }
}

/// A route's answer, or the envelope to answer instead.
pub(crate) type Answer = Result<Reply, ApiError>;

/// Turns any outcome into a response.
pub(crate) fn into_template(answer: Answer) -> ResponseTemplate {
    answer.map_or_else(ApiError::into_template, Reply::into_template)
}

/// Whether there is no body at all (or only whitespace).
pub(crate) fn body_is_empty(request: &Request) -> bool {
    request.body.iter().all(u8::is_ascii_whitespace)
}

/// The body as `T`. The body is JSON whatever the Content-Type says (the SDK sends none, browsers label it
/// text/plain); it must be an object; unknown fields are ignored (as long as `T` does not deny them).
pub(crate) fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    if body_is_empty(request) {
        return Err(ApiError::invalid_argument(
            "request body is empty; expected a JSON object",
        ));
    }
    let value: Value = serde_json::from_slice(&request.body).map_err(|err| {
        ApiError::invalid_argument(format!("request body is not valid JSON: {err}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::invalid_argument(
            "request body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // A missing field has the root as its path; serde's message already names the field then.
        if path == "." {
            ApiError::invalid_argument(format!("invalid request body: {inner}"))
        } else {
            ApiError::invalid_argument(format!("invalid request body: {path}: {inner}"))
        }
    })
}

/// Checks the `x-device-id` header that sign-in and provider calls must carry.
pub(crate) fn require_device_id(request: &Request) -> Result<(), ApiError> {
    let value = request.headers.get("x-device-id").ok_or_else(|| {
        ApiError::invalid_argument("missing x-device-id header; this call requires one")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid_argument("x-device-id header must be visible ASCII"))?;
    let length = value.chars().count();
    if !choices::DEVICE_ID_LEN.contains(&length) {
        return Err(ApiError::invalid_argument(format!(
            "x-device-id header must be {} to {} characters long, got {length}",
            choices::DEVICE_ID_LEN.start(),
            choices::DEVICE_ID_LEN.end(),
        )));
    }
    Ok(())
}

/// The token of an `Authorization: Bearer <token>` header (scheme matched case-insensitively).
pub(crate) fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A query parameter (the first, if repeated), percent-decoded.
pub(crate) fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A query parameter that must be present and non-empty.
pub(crate) fn required_param(request: &Request, name: &str) -> Result<String, ApiError> {
    query_param(request, name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::invalid_argument(format!("missing query parameter {name}")))
}
