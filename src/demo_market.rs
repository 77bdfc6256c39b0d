//! The bundled demo market: three made-up sites (a GBK phpBB market, a
//! Shift_JIS board, a UTF-8 MyBB forum), two Telegram channel previews at
//! `/s/<channel>` (and a channel whose preview redirects to its landing
//! page) and a paste site under `/paste/`, served from pages embedded in the
//! binary, on 127.0.0.1 with a random free port. Each page is stored as
//! UTF-8 and encoded to its route's charset when served, as the real sites do.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use include_dir::{include_dir, Dir};
use serde::Deserialize;
use tokio::sync::oneshot;

static SITE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/examples/demo-market/site");
const ROUTES: &str = include_str!("../examples/demo-market/routes.json");

/// Site profiles and watchlists of the demo, embedded: `(file name, text)`.
pub(crate) const PROFILES: [(&str, &str); 5] = [
    (
        "demo-market.toml",
        include_str!("../examples/sites/demo-market.toml"),
    ),
    (
        "demo-jp.toml",
        include_str!("../examples/sites/demo-jp.toml"),
    ),
    (
        "demo-forum.toml",
        include_str!("../examples/sites/demo-forum.toml"),
    ),
    (
        "demo-telegram.toml",
        include_str!("../examples/sites/demo-telegram.toml"),
    ),
    (
        "demo-paste.toml",
        include_str!("../examples/sites/demo-paste.toml"),
    ),
];
pub(crate) static WATCHLISTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/examples/watchlists");

#[derive(Deserialize)]
struct Routes {
    routes: Vec<Route>,
    /// Paths answered with a 302 to another path (a Telegram channel
    /// without a public preview: t.me sends `/s/<name>` to `/<name>`).
    #[serde(default)]
    redirects: Vec<Redirect>,
}

#[derive(Deserialize)]
struct Redirect {
    path: String,
    to: String,
}

#[derive(Deserialize)]
struct Route {
    path: String,
    file: String,
    charset: String,
}

enum Page {
    Content { body: Vec<u8>, content_type: String },
    Redirect { to: String },
}

/// A running demo market; stops when dropped.
pub(crate) struct DemoMarket {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl DemoMarket {
    /// Encodes every page and starts serving on 127.0.0.1 (random port).
    pub(crate) async fn start() -> anyhow::Result<DemoMarket> {
        let routes: Routes =
            serde_json::from_str(ROUTES).context("embedded routes.json is invalid")?;
        let mut pages = HashMap::new();
        for route in routes.routes {
            let file = SITE
                .get_file(&route.file)
                .and_then(|f| f.contents_utf8())
                .with_context(|| format!("demo page {} is missing or not UTF-8", route.file))?;
            let encoding = encoding_rs::Encoding::for_label(route.charset.as_bytes())
                .with_context(|| {
                    format!(
                        "demo route {}: unknown charset {}",
                        route.path, route.charset
                    )
                })?;
            let (bytes, _, _) = encoding.encode(file);
            // A paste's raw text is plain text, as paste sites send it.
            let mime = if route.file.ends_with(".txt") {
                "text/plain"
            } else {
                "text/html"
            };
            pages.insert(
                route.path,
                Page::Content {
                    body: bytes.into_owned(),
                    content_type: format!("{mime}; charset={}", route.charset),
                },
            );
        }
        for redirect in routes.redirects {
            pages.insert(redirect.path, Page::Redirect { to: redirect.to });
        }
        let app = Router::new().fallback(serve).with_state(Arc::new(pages));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("cannot listen on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                stopped.await.ok();
            });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "demo market server failed");
            }
        });
        Ok(DemoMarket {
            addr,
            stop: Some(stop),
        })
    }

    /// Root URL of the server.
    pub(crate) fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for DemoMarket {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(State(pages): State<Arc<HashMap<String, Page>>>, uri: Uri) -> Response {
    let key = uri.path_and_query().map_or("/", |pq| pq.as_str());
    match pages.get(key) {
        Some(Page::Content { body, content_type }) => {
            ([(header::CONTENT_TYPE, content_type.clone())], body.clone()).into_response()
        }
        Some(Page::Redirect { to }) => {
            (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
