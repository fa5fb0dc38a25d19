//! Start-up: builds the shared state once (the CloudBase client, or the embedded stub when none
//! is configured; the session store) and composes the axum router around the Dioxus app. Making
//! the router is cheap, because `dioxus::serve` makes it again on every hot reload.

use axum::routing::get;
use axum::{Extension, Json, Router};
use mock_cloudbase::MockCloudbase;
use serde_json::{json, Value};
use tower_sessions::SessionManagerLayer;

use super::clock::Clock;
use super::cloudbase::CloudbaseClient;
use super::config::{Backend, Config};
use super::csp::PagePolicy;
use super::guard::guard;
use super::session;
use super::state::AppState;
use super::wechat;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the session store could not be opened: {0}")]
    SessionStore(#[from] sqlx::Error),
    #[error("the embedded CloudBase stub gave an address that is not a URL: {0}")]
    StubUrl(#[from] url::ParseError),
}

/// The app's long-lived parts.
#[derive(Clone)]
pub struct Server {
    pub state: AppState,
    sessions: SessionManagerLayer<session::Store>,
    /// The store behind `sessions`, for the cookie tidying that picks among several ids.
    session_store: session::Store,
    page_policy: PagePolicy,
}

/// Builds everything that must live as long as the process.
pub async fn build_state(config: Config, clock: Clock) -> Result<Server, StartupError> {
    let (cloudbase, embedded_stub, page_policy) = match &config.backend {
        Backend::Remote { api_url, env_id } => {
            tracing::info!(api_url = %api_url, "using CloudBase at the configured address");
            (
                CloudbaseClient::new(api_url.clone(), env_id, config.cloudbase_timeout),
                None,
                PagePolicy::new(api_url),
            )
        }
        Backend::Embedded => {
            let stub = MockCloudbase::builder()
                .region(&config.region)
                .start()
                .await;
            stub.on_sms(|sms| {
                tracing::info!(target: "mock_cloudbase", "SMS to {}: {}", sms.masked_phone, sms.code);
            });
            tracing::info!(
                target: "mock_cloudbase",
                "no CLOUDBASE_ENV_ID set: using the built-in CloudBase stub at {}",
                stub.uri()
            );
            let stub_url: url::Url = stub.uri().parse()?;
            let client =
                CloudbaseClient::new(stub_url.clone(), &stub.env_id(), config.cloudbase_timeout);
            (client, Some(stub), PagePolicy::new(&stub_url))
        }
    };
    let (sessions, session_store) = session::layer(&config).await?;
    let state = AppState::new(config, cloudbase, clock, embedded_stub);
    Ok(Server {
        state,
        sessions,
        session_store,
        page_policy,
    })
}

/// The whole app: Dioxus pages and server functions, the health check, and the layers. The
/// session layer is outermost so that the guard and the server functions see the session.
pub fn router(server: &Server) -> Router {
    let app = dioxus::server::router(crate::app::App)
        .route("/api/public/health", get(health))
        .route(
            "/api/auth/wechat/start",
            get(wechat::start).with_state(server.state.clone()),
        )
        .route(
            wechat::CALLBACK_PATH,
            get(wechat::callback).with_state(server.state.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(
            server.state.clone(),
            guard,
        ))
        .layer(Extension(server.state.clone()))
        .layer(server.sessions.clone())
        .layer(axum::middleware::from_fn_with_state(
            server.session_store.clone(),
            super::cookies::tidy_cookies,
        ));
    let app = with_security_headers(app, server.page_policy.clone());
    if server.state.config.bench_ceiling {
        // Added after the layers, so it runs without any of them: the benchmark's ceiling.
        app.route("/__bench/ceiling", get(|| async { "ok" }))
    } else {
        app
    }
}

/// Serves the app on `listener` until `shutdown` completes, as the release server does. Each
/// request carries its peer's address ([`axum::extract::ConnectInfo`]) for the per-address SMS
/// limit; requests in flight finish before this returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: &Server,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(server).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Headers every answer carries: a Content-Security-Policy (pages: a per-answer nonce), no
/// framing (clickjacking), no MIME sniffing, and no full URLs (with their query strings) leaked
/// to other sites in `Referer`.
fn with_security_headers(router: Router, policy: PagePolicy) -> Router {
    use axum::http::{header, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer as Set;
    router
        .layer(axum::middleware::from_fn_with_state(
            policy,
            super::csp::content_security_policy,
        ))
        .layer(Set::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(Set::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(Set::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// `GET /api/public/health`: the process is up and serving.
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
