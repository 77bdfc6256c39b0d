//! The console's pages: server-rendered HTML (plain forms, no script) over
//! the same scoped queries as the API. The browser authenticates with a
//! session cookie got by exchanging a token at `/login`; every form that
//! changes state carries the session's CSRF token.

mod alerts;
mod assets;
mod lists;

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html as HtmlResponse, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::access::Principal;
use crate::console::auth::{cookie, peer, SESSION_COOKIE};
use crate::console::html::{is_local_path, Html};
use crate::console::i18n::{negotiate, t, Lang, Msg, LANG_COOKIE};
use crate::console::scoped::Refusal;
use crate::console::ConsoleState;

/// The pages and their assets.
pub(crate) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/alerts") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", get(switch_language))
        .route("/alerts", get(alerts::queue))
        .route("/alerts/bulk", post(alerts::bulk))
        .route("/alerts/{id}", get(alerts::alert_page))
        .route("/alerts/{id}/status", post(alerts::triage))
        .route("/search", get(lists::search))
        .route("/sites", get(lists::sites))
        .route("/sites/{site}/session", post(lists::import_session))
        .route("/watchlists", get(lists::watchlists))
        .route("/assets/{name}", get(assets::asset))
}

/// A browser with a live session.
pub(crate) struct Viewer {
    pub principal: Principal,
    pub csrf: String,
    pub lang: Lang,
    /// The request's path and query, for the language switch's way back.
    pub here: String,
}

impl FromRequestParts<ConsoleState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Viewer, Response> {
        let lang = negotiate(&parts.headers);
        let here = parts
            .uri
            .path_and_query()
            .map_or("/alerts".to_owned(), |p| p.as_str().to_owned());
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(Redirect::to("/login").into_response());
        };
        let reader = state.clone();
        match tokio::task::spawn_blocking(move || reader.session(&id)).await {
            Ok(Ok(Some(session))) => Ok(Viewer {
                principal: session.principal,
                csrf: session.csrf,
                lang,
                here,
            }),
            Ok(Ok(None)) => Err(Redirect::to("/login").into_response()),
            _ => Err(failure_page(lang)),
        }
    }
}

/// A form's fields (repeated names kept, in order).
pub(crate) struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub(crate) fn parse(body: &Bytes) -> FormFields {
        FormFields(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Viewer {
    /// Whether a posted form carries this session's CSRF token.
    pub(crate) fn csrf_ok(&self, form: &FormFields) -> bool {
        form.get("csrf")
            .is_some_and(|c| crate::access::constant_time_eq(c, &self.csrf))
    }

    /// The fields of a posted form that carries this session's CSRF token;
    /// else the page that refuses it.
    pub(crate) fn checked_form(&self, body: &Bytes) -> Result<FormFields, Box<Response>> {
        let form = FormFields::parse(body);
        if self.csrf_ok(&form) {
            Ok(form)
        } else {
            Err(Box::new(refusal_page(
                self,
                Refusal::BadRequest("missing or wrong CSRF token: reload the page".into()),
            )))
        }
    }
}

/// The frame of every page: the navigation, the language switch, who is
/// logged in, then `body`.
pub(crate) fn page(viewer: Option<&Viewer>, lang: Lang, title: &str, body: Html) -> Response {
    let mut h = Html::new();
    h.raw("<!doctype html>\n<html lang=\"")
        .text(lang.code())
        .raw("\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
        .raw("<meta name=\"referrer\" content=\"no-referrer\">")
        .raw("<title>")
        .text(title)
        .raw(" · ")
        .text(t(lang, Msg::Title))
        .raw("</title><link rel=\"stylesheet\" href=\"/assets/console.css\"></head><body><header><nav>")
        .raw("<strong>leakwatch</strong>");
    let back = viewer.map_or("/login", |v| v.here.as_str());
    if let Some(v) = viewer {
        for (href, msg) in [
            ("/alerts", Msg::Alerts),
            ("/search", Msg::Search),
            ("/watchlists", Msg::Watchlists),
        ] {
            h.local_link(href, t(lang, msg));
        }
        if v.principal.scope.customer().is_none() {
            h.local_link("/sites", t(lang, Msg::Sites));
        }
    }
    h.raw("<span class=\"spacer\"></span>");
    let switch = format!(
        "/lang?{}",
        crate::console::html::query_string(&[("to", lang.other().code()), ("back", back)])
    );
    h.raw("<a id=\"lang-switch\" href=\"")
        .text(&switch)
        .raw("\">");
    h.text(t(lang, Msg::Switch)).raw("</a>");
    if let Some(v) = viewer {
        h.raw("<span class=\"who\">")
            .text(&v.principal.name)
            .raw(" (")
            .text(&v.principal.scope.to_string())
            .raw(")</span><form method=\"post\" action=\"/logout\" class=\"inline\">")
            .raw("<input type=\"hidden\" name=\"csrf\" value=\"")
            .text(&v.csrf)
            .raw("\"><button type=\"submit\">")
            .text(t(lang, Msg::Logout))
            .raw("</button></form>");
    }
    h.raw("</nav></header><main>");
    let mut out = h.into_string();
    out.push_str(&body.into_string());
    out.push_str("</main></body></html>\n");
    HtmlResponse(out).into_response()
}

/// The page of a refusal.
pub(crate) fn refusal_page(viewer: &Viewer, refusal: Refusal) -> Response {
    let lang = viewer.lang;
    let (status, message) = match refusal {
        Refusal::NotFound => (StatusCode::NOT_FOUND, t(lang, Msg::NotFound).to_owned()),
        Refusal::BadRequest(m) | Refusal::Conflict(m) => (StatusCode::BAD_REQUEST, m),
        Refusal::Forbidden(_) => (StatusCode::FORBIDDEN, t(lang, Msg::ViewerOnly).to_owned()),
        Refusal::Failed(e) => {
            tracing::error!(error = %format!("{e:#}"), "console page failed");
            return failure_page(lang);
        }
    };
    let mut body = Html::new();
    body.wrap("<p class=\"error\">", &message, "</p>");
    (status, page(Some(viewer), lang, &message, body)).into_response()
}

fn failure_page(lang: Lang) -> Response {
    let mut body = Html::new();
    body.raw("<p class=\"error\">The server failed; its log says why.</p>");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        page(None, lang, "error", body),
    )
        .into_response()
}

const LOGIN_CSRF_COOKIE: &str = "lw_login";

fn login_form(lang: Lang, error: Option<&str>, csrf: &str) -> Html {
    let mut h = Html::new();
    h.wrap("<h1>", t(lang, Msg::LoginTitle), "</h1>");
    if let Some(e) = error {
        h.wrap("<p class=\"error\" id=\"login-error\">", e, "</p>");
    }
    h.wrap("<p>", t(lang, Msg::LoginHelp), "</p>")
        .raw("<form method=\"post\" action=\"/login\" class=\"login\"><label>")
        .text(t(lang, Msg::Token))
        .raw(" <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" required></label>")
        .raw("<input type=\"hidden\" name=\"csrf\" value=\"")
        .text(csrf)
        .raw("\"><button type=\"submit\" id=\"login\">")
        .text(t(lang, Msg::LogIn))
        .raw("</button></form>");
    h
}

fn cookie_header(state: &ConsoleState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.secure_cookies {
        c.push_str("; Secure");
    }
    c
}

/// GET /login: the token form, with a login CSRF token in a cookie and
/// the form (double submit: the session does not exist yet).
async fn login_page(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    let lang = negotiate(&headers);
    let Ok(csrf) = crate::access::new_secret() else {
        return failure_page(lang);
    };
    let set = cookie_header(&state, LOGIN_CSRF_COOKIE, &csrf, Some(3600));
    (
        [(header::SET_COOKIE, set)],
        page(
            None,
            lang,
            t(lang, Msg::LoginTitle),
            login_form(lang, None, &csrf),
        ),
    )
        .into_response()
}

/// POST /login: exchanges a token for a session (rate-limited per address).
async fn login(State(state): State<ConsoleState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let lang = negotiate(&parts.headers);
    let ip = peer(&parts);
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let form = FormFields::parse(&body);
    let csrf_ok = match (cookie(&parts.headers, LOGIN_CSRF_COOKIE), form.get("csrf")) {
        (Some(c), Some(f)) => crate::access::constant_time_eq(c, f),
        _ => false,
    };
    let retry = |state: &ConsoleState, status: StatusCode, message: &str| -> Response {
        let Ok(csrf) = crate::access::new_secret() else {
            return failure_page(lang);
        };
        let set = cookie_header(state, LOGIN_CSRF_COOKIE, &csrf, Some(3600));
        (
            status,
            [(header::SET_COOKIE, set)],
            page(
                None,
                lang,
                t(lang, Msg::LoginTitle),
                login_form(lang, Some(message), &csrf),
            ),
        )
            .into_response()
    };
    if !csrf_ok {
        return retry(
            &state,
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token: try again",
        );
    }
    if !state.limiter.allows(ip, Instant::now()) {
        return retry(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            t(lang, Msg::TooManyAttempts),
        );
    }
    let token = form.get("token").unwrap_or("").trim().to_owned();
    let store = state.store.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let Some(principal) = store.authenticate(&token)? else {
            return Ok(None);
        };
        store.open_session(&principal).map(Some)
    })
    .await;
    match opened {
        Ok(Ok(Some((id, _csrf)))) => {
            let set = cookie_header(&state, SESSION_COOKIE, &id, None);
            let clear = cookie_header(&state, LOGIN_CSRF_COOKIE, "", Some(0));
            (
                StatusCode::SEE_OTHER,
                AppendHeaders([(header::SET_COOKIE, set), (header::SET_COOKIE, clear)]),
                [(header::LOCATION, "/alerts".to_owned())],
            )
                .into_response()
        }
        Ok(Ok(None)) => {
            state.limiter.failed(ip, Instant::now());
            retry(&state, StatusCode::UNAUTHORIZED, t(lang, Msg::LoginFailed))
        }
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "console login failed");
            failure_page(lang)
        }
        Err(_) => failure_page(lang),
    }
}

/// POST /logout: ends the session (in the store, not only the cookie).
async fn logout(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = viewer.checked_form(&body) {
        return *refused;
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE).map(str::to_owned) {
        let store = state.store.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.close_session(&id)).await {
            tracing::error!(error = %format!("{e:#}"), "console logout failed");
            return failure_page(viewer.lang);
        }
    }
    (
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                cookie_header(&state, SESSION_COOKIE, "", Some(0)),
            ),
            (header::LOCATION, "/login".to_owned()),
        ],
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct LangQuery {
    to: String,
    #[serde(default)]
    back: String,
}

/// GET /lang?to=ja&back=/alerts: sets the language cookie, goes back (to
/// a local path only).
async fn switch_language(
    State(state): State<ConsoleState>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or(Lang::En);
    let back = if is_local_path(&q.back) {
        q.back
    } else {
        "/alerts".to_owned()
    };
    let mut set = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
        lang.code()
    );
    if state.secure_cookies {
        set.push_str("; Secure");
    }
    (
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, set), (header::LOCATION, back)],
    )
        .into_response()
}
