//! The console's static files, embedded in the binary: the style sheet and
//! htmx (2.0.11, vendored unmodified; `htmx.min.js.LICENSE` beside it).
//! Nothing is loaded from anywhere else. Pages link each file by a name
//! that carries its content hash, so it can be cached for a year and a new
//! binary's file is never mistaken for the old one.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    /// Its plain name (`console.css`).
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/console.css"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/htmx.min.js"),
    },
];

/// Each asset's hashed name (`console.3f2a…9c.css`), computed once.
static HASHED: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = hex::encode(Sha256::digest(a.bytes));
            let (stem, ext) = a.name.split_once('.').unwrap_or((a.name, ""));
            format!("{stem}.{}.{ext}", &digest[..16])
        })
        .collect()
});

/// The URL pages link `name` by (`/assets/console.<hash>.css`).
pub(crate) fn url(name: &str) -> String {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => format!("/assets/{}", HASHED[i]),
        None => format!("/assets/{name}"),
    }
}

/// GET /assets/{name}: a hashed name is cached for a year (its content
/// cannot change), a plain one for an hour.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let found = ASSETS.iter().zip(HASHED.iter()).find_map(|(a, hashed)| {
        if *hashed == name {
            Some((a, "public, max-age=31536000, immutable"))
        } else if a.name == name {
            Some((a, "public, max-age=3600"))
        } else {
            None
        }
    });
    match found {
        Some((a, cache)) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, cache),
            ],
            a.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_follow_the_content() {
        let css = url("console.css");
        let js = url("htmx.min.js");
        assert!(
            css.starts_with("/assets/console.") && css.ends_with(".css"),
            "{css}"
        );
        assert!(
            js.starts_with("/assets/htmx.") && js.ends_with(".min.js"),
            "{js}"
        );
        let digest = hex::encode(Sha256::digest(include_bytes!("../assets/htmx.min.js")));
        assert!(js.contains(&digest[..16]), "{js}");
        // The vendored file is htmx 2.x, unmodified (its licence note says which).
        let js_text = std::str::from_utf8(ASSETS[1].bytes).expect("UTF-8");
        assert!(
            js_text.starts_with("var htmx=function(){"),
            "htmx.min.js as published"
        );
        let note = include_str!("../assets/htmx.min.js.LICENSE");
        assert!(
            note.contains(&digest),
            "the licence note names the file's SHA-256"
        );
    }
}
