//! Server: `dioxus::serve` with the app's router. Browser: the hydrating client.

/// Rendering a page builds and drops a whole tree of small allocations; mimalloc serves them
/// faster than the system allocator (see BENCHMARKS.md).
#[cfg(feature = "server")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    #[cfg(feature = "server")]
    serve();

    #[cfg(all(feature = "web", not(feature = "server")))]
    dioxus::launch(cloudbase_login::app::App);
}

#[cfg(feature = "server")]
fn serve() {
    use cloudbase_login::server::Config;

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("configuration error: {err}");
            std::process::exit(2);
        }
    };
    ensure_public_dir();
    if dioxus::cli_config::is_cli_enabled() {
        serve_under_cli(config);
    } else {
        serve_standalone(config);
    }
}

/// Under `dx serve`: Dioxus' own server loop, which also applies hot reloads.
#[cfg(feature = "server")]
fn serve_under_cli(config: cloudbase_login::server::Config) {
    use std::sync::Arc;

    use cloudbase_login::server::{build_state, router, Clock, Server};
    use tokio::sync::OnceCell;

    // Built once: hot reloads make a new router around the same state (and the same stub).
    let server: Arc<OnceCell<Server>> = Arc::default();
    dioxus::serve(move || {
        let (server, config) = (server.clone(), config.clone());
        async move {
            let server = server
                .get_or_try_init(|| build_state(config, Clock::default()))
                .await?;
            Ok(router(server))
        }
    });
}

/// The release server (`./server` from `dx build`, or `cargo run --features server`): listens on
/// `IP`:`PORT` (default 127.0.0.1:8080) and stops cleanly on Ctrl-C or SIGTERM.
#[cfg(feature = "server")]
fn serve_standalone(config: cloudbase_login::server::Config) {
    use cloudbase_login::server::{build_state, serve, Clock};

    dioxus::logger::initialize_default();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("could not start the async runtime: {err}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async move {
        let server = build_state(config, Clock::default())
            .await
            .map_err(|err| err.to_string())?;
        let address = dioxus::cli_config::fullstack_address_or_localhost();
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|err| format!("cannot listen on {address}: {err}"))?;
        tracing::info!("serving at http://{address}");
        serve(listener, &server, shutdown_signal())
            .await
            .map_err(|err| err.to_string())
    });
    if let Err(err) = result {
        eprintln!("{err}");
        std::process::exit(1);
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
#[cfg(feature = "server")]
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// `cargo run --features server` without the Dioxus CLI has no `public/` folder next to the
/// binary; serve the pages without the browser bundle instead of failing to start.
#[cfg(feature = "server")]
fn ensure_public_dir() {
    if std::env::var_os("DIOXUS_PUBLIC_PATH").is_some() {
        return;
    }
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|p| p.join("public")))
    else {
        return;
    };
    if !dir.exists() && std::fs::create_dir_all(&dir).is_ok() {
        // A page template, so that server-rendered pages are full standards-mode documents.
        let _ = std::fs::write(
            dir.join("index.html"),
            cloudbase_login::app::BARE_INDEX_HTML,
        );
        eprintln!(
            "no web bundle at {}: serving server-rendered pages only (use `dx serve` for the full app)",
            dir.display()
        );
    }
}
