//! The signed-in user: `GET /auth/v1/user/me`.

use serde_json::Value;
use wiremock::Request;

use super::http::bearer;
use crate::error::ApiError;
use crate::state::Shared;

/// `GET /auth/v1/user/me` with `Authorization: Bearer <access_token>`: the user's profile, or 401.
pub(crate) fn me(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let state = shared.state.lock();
    state
        .authenticate(bearer(request))
        .map(|user| user.profile())
        .map_err(|problem| problem.into_error())
}
