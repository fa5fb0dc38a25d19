//! `ApiJson<T>`: the request body of every server function that takes input.
//!
//! Dioxus' own argument decoding answers 500 for a body it cannot parse; this extractor answers
//! with our JSON error instead: 413 past [`MAX_BODY_BYTES`], 400 naming the problem otherwise. It
//! reads the body as JSON whatever the `Content-Type`, so a cross-site `text/plain` form post is
//! parsed (and then refused by the origin check), not silently skipped.

use std::future::Future;

use dioxus::fullstack::{ClientRequest, ClientResult, IntoRequest};
use serde::{de::DeserializeOwned, Serialize};

/// The largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A JSON request body with our own error answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiJson<T>(pub T);

impl<T> IntoRequest for ApiJson<T>
where
    T: Serialize + DeserializeOwned + 'static,
{
    // Spelled out: the trait asks for a `'static` future, which an `async fn` does not promise.
    #[allow(clippy::manual_async_fn)]
    fn into_request(self, request: ClientRequest) -> impl Future<Output = ClientResult> + 'static {
        async move { request.send_json(&self.0).await }
    }
}

#[cfg(feature = "server")]
mod server {
    use axum::extract::{FromRequest, Request};
    use axum::response::{IntoResponse, Response};

    use super::*;
    use crate::auth::{ApiError, ErrorCode};

    impl<T, S> FromRequest<S> for ApiJson<T>
    where
        T: DeserializeOwned,
        S: Send + Sync,
    {
        type Rejection = Response;

        async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
            let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
                .await
                .map_err(|_| {
                    crate::server::json_error(&ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        format!("The request body is over {MAX_BODY_BYTES} bytes."),
                    ))
                })?;
            serde_json::from_slice(&bytes).map(ApiJson).map_err(|err| {
                let message = match err.classify() {
                    serde_json::error::Category::Data => {
                        format!("The request has a missing or mistyped field: {err}.")
                    }
                    _ => "The request body is not valid JSON.".to_owned(),
                };
                ApiError::invalid_request(message).into_response()
            })
        }
    }

    impl IntoResponse for ApiError {
        fn into_response(self) -> Response {
            crate::server::json_error(&self)
        }
    }
}
