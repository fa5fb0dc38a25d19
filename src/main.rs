//! Server: `dioxus::serve` with the app's router. Browser: the hydrating client.

fn main() {
    #[cfg(feature = "server")]
    serve();

    #[cfg(all(feature = "web", not(feature = "server")))]
    dioxus::launch(cloudbase_login::app::App);
}

#[cfg(feature = "server")]
fn serve() {
    use std::sync::Arc;

    use cloudbase_login::server::{build_state, router, Clock, Config, Server};
    use tokio::sync::OnceCell;

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("configuration error: {err}");
            std::process::exit(2);
        }
    };
    ensure_public_dir();
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
