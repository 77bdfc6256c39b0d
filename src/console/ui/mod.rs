//! The console's pages: askama templates (`templates/console/`, escaped by
//! default) over the same scoped queries as the API. Every page works with
//! plain forms; htmx (embedded, from our own origin) makes triage, bulk
//! actions and the queue's filters swap a fragment instead of reloading:
//! the same handler answers the fragment when the request carries
//! `HX-Request`, the whole page otherwise. The browser authenticates with a
//! session cookie got by exchanging a token at `/login`; every form that
//! changes state carries the session's CSRF token, with or without htmx.

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

use askama::Template;

use crate::access::Principal;
use crate::console::auth::{cookie, peer, SESSION_COOKIE};
use crate::console::html::{is_local_path, query_string};
use crate::console::i18n::{negotiate, status_name, t, Lang, Msg, LANG_COOKIE};
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
    /// An htmx request (`HX-Request`, not a history restore): answer the
    /// fragment it swaps in, not the whole page.
    pub htmx: bool,
}

/// Whether a request came from htmx and wants a fragment (a history
/// restore wants the whole page).
pub(crate) fn wants_fragment(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request") && !headers.contains_key("hx-history-restore-request")
}

impl FromRequestParts<ConsoleState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Viewer, Response> {
        let lang = negotiate(&parts.headers);
        let htmx = wants_fragment(&parts.headers);
        let here = parts
            .uri
            .path_and_query()
            .map_or("/alerts".to_owned(), |p| p.as_str().to_owned());
        // An htmx request whose session is gone navigates the whole page
        // to the login form (rather than swap it into a fragment's place).
        let to_login = || {
            if htmx {
                (StatusCode::UNAUTHORIZED, [("hx-redirect", "/login")]).into_response()
            } else {
                Redirect::to("/login").into_response()
            }
        };
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(to_login());
        };
        let reader = state.clone();
        match tokio::task::spawn_blocking(move || reader.session(&id)).await {
            Ok(Ok(Some(session))) => Ok(Viewer {
                principal: session.principal,
                csrf: session.csrf,
                lang,
                here,
                htmx,
            }),
            Ok(Ok(None)) => Err(to_login()),
            _ => Err(failure_page(lang, htmx)),
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

/// What the frame of every page shows: the language, the title, who is
/// logged in and the language switch's way back.
pub(crate) struct Frame {
    pub lang: Lang,
    pub title: String,
    pub who: Option<Who>,
    /// The language switch's link (`/lang?to=…&back=…`).
    pub switch: String,
}

/// The logged-in viewer, as the frame shows them.
pub(crate) struct Who {
    pub name: String,
    pub scope: String,
    pub csrf: String,
    /// An operator token (sees the sites page and every customer).
    pub operator: bool,
    /// May change an alert's status.
    pub may_triage: bool,
}

impl Frame {
    pub(crate) fn new(viewer: Option<&Viewer>, lang: Lang, title: &str) -> Frame {
        let back = viewer.map_or("/login", |v| v.here.as_str());
        Frame {
            lang,
            title: title.to_owned(),
            who: viewer.map(|v| Who {
                name: v.principal.name.clone(),
                scope: v.principal.scope.to_string(),
                csrf: v.csrf.clone(),
                operator: v.principal.scope.customer().is_none(),
                may_triage: v.principal.may_triage(),
            }),
            switch: format!(
                "/lang?{}",
                query_string(&[("to", lang.other().code()), ("back", back)])
            ),
        }
    }

    /// `msg` in the page's language (`{{ f.tr(Msg::Alerts) }}`).
    pub(crate) fn tr(&self, msg: Msg) -> &'static str {
        t(self.lang, msg)
    }

    /// A status's name in the page's language.
    pub(crate) fn status<'s>(&self, status: &'s str) -> &'s str {
        status_name(self.lang, status)
    }

    /// The session's CSRF token, for a form's hidden field.
    pub(crate) fn csrf(&self) -> &str {
        self.who.as_ref().map_or("", |w| w.csrf.as_str())
    }

    /// Whether the viewer holds an operator token (every customer).
    pub(crate) fn operator(&self) -> bool {
        self.who.as_ref().is_some_and(|w| w.operator)
    }

    /// Whether the viewer may triage.
    pub(crate) fn may_triage(&self) -> bool {
        self.who.as_ref().is_some_and(|w| w.may_triage)
    }

    /// An embedded asset's URL (with its content hash).
    pub(crate) fn asset(&self, name: &str) -> String {
        assets::url(name)
    }
}

/// A rendered template as an HTML response (varying with `HX-Request`: the
/// same URL answers a page or a fragment); a template that fails to render
/// (it cannot, short of a formatting error) is a bare 500 and a log line.
pub(crate) fn html(template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => ([(header::VARY, "HX-Request")], HtmlResponse(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A message in the frame: a refusal, a failure.
#[derive(Template)]
#[template(path = "console/message.html", blocks = ["message"])]
pub(crate) struct MessagePage {
    pub f: Frame,
    pub message: String,
}

/// A message for an htmx request: the fragment alone, put in the page's
/// `#flash` whatever the request aimed at (htmx swaps error answers: see
/// `responseHandling` in the base template).
fn flash(status: StatusCode, page: &MessagePage) -> Response {
    match page.as_message().render() {
        Ok(body) => (
            status,
            [("hx-retarget", "#flash"), ("hx-reswap", "innerHTML")],
            HtmlResponse(body),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The page of a refusal (for an htmx request, the message alone).
pub(crate) fn refusal_page(viewer: &Viewer, refusal: Refusal) -> Response {
    let lang = viewer.lang;
    let (status, message) = match refusal {
        Refusal::NotFound => (StatusCode::NOT_FOUND, t(lang, Msg::NotFound).to_owned()),
        Refusal::BadRequest(m) | Refusal::Conflict(m) => (StatusCode::BAD_REQUEST, m),
        Refusal::Forbidden(_) => (StatusCode::FORBIDDEN, t(lang, Msg::ViewerOnly).to_owned()),
        Refusal::Failed(e) => {
            tracing::error!(error = %format!("{e:#}"), "console page failed");
            return failure_page(lang, viewer.htmx);
        }
    };
    let page = MessagePage {
        f: Frame::new(Some(viewer), lang, &message),
        message,
    };
    if viewer.htmx {
        flash(status, &page)
    } else {
        (status, html(&page)).into_response()
    }
}

fn failure_page(lang: Lang, htmx: bool) -> Response {
    let page = MessagePage {
        f: Frame::new(None, lang, "error"),
        message: "The server failed; its log says why.".to_owned(),
    };
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    if htmx {
        flash(status, &page)
    } else {
        (status, html(&page)).into_response()
    }
}

const LOGIN_CSRF_COOKIE: &str = "lw_login";

/// The login page: the token form.
#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    f: Frame,
    error: Option<&'a str>,
    /// The login CSRF token (double submit: no session yet).
    login_csrf: &'a str,
}

fn login_form(lang: Lang, error: Option<&str>, csrf: &str) -> Response {
    html(&LoginPage {
        f: Frame::new(None, lang, t(lang, Msg::LoginTitle)),
        error,
        login_csrf: csrf,
    })
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
        return failure_page(lang, false);
    };
    let set = cookie_header(&state, LOGIN_CSRF_COOKIE, &csrf, Some(3600));
    ([(header::SET_COOKIE, set)], login_form(lang, None, &csrf)).into_response()
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
            return failure_page(lang, false);
        };
        let set = cookie_header(state, LOGIN_CSRF_COOKIE, &csrf, Some(3600));
        (
            status,
            [(header::SET_COOKIE, set)],
            login_form(lang, Some(message), &csrf),
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
            failure_page(lang, false)
        }
        Err(_) => failure_page(lang, false),
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
            return failure_page(viewer.lang, viewer.htmx);
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

#[cfg(test)]
mod tests;
