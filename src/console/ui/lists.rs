//! The search page (hits with highlighted snippets, facets as links), the
//! sites page (crawl health) and the watchlists page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::console::api::scoped;
use crate::console::html::query_string;
use crate::console::i18n::{t, Msg};
use crate::console::scoped::{SearchItem, SearchPage, SearchQuery, SiteHealth, WatchlistView};
use crate::console::ui::{html, refusal_page, Frame, Viewer};
use crate::console::ConsoleState;

/// One facet value with its count, and the link that narrows the query to
/// it (none for months: the query language has no month field).
pub(crate) struct FacetValue<'a> {
    pub value: &'a str,
    pub count: u64,
    pub href: Option<String>,
}

/// One facet: its label and values.
pub(crate) struct FacetGroup<'a> {
    pub label: Msg,
    pub values: Vec<FacetValue<'a>>,
}

/// One hit, its snippet cut into pieces (`true`: a matched word).
pub(crate) struct Hit<'a> {
    pub item: &'a SearchItem,
    pub pieces: Vec<(&'a str, bool)>,
}

/// The search page: the form, and when there is a query its hits and facets.
#[derive(Template)]
#[template(path = "console/search.html")]
pub(crate) struct SearchView<'a> {
    pub f: Frame,
    pub q: &'a str,
    pub results: Option<&'a SearchPage>,
    pub facets: Vec<FacetGroup<'a>>,
    pub hits: Vec<Hit<'a>>,
    pub next: Option<String>,
}

/// `snippet` cut at the highlighted byte ranges (ranges that overlap, run
/// past its end or split a character are left out).
fn highlighted<'s>(snippet: &'s str, highlights: &[[usize; 2]]) -> Vec<(&'s str, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    for &[s, e] in highlights {
        if s < at
            || e > snippet.len()
            || s > e
            || !snippet.is_char_boundary(s)
            || !snippet.is_char_boundary(e)
        {
            continue;
        }
        if s > at {
            out.push((&snippet[at..s], false));
        }
        out.push((&snippet[s..e], true));
        at = e;
    }
    if at < snippet.len() {
        out.push((&snippet[at..], false));
    }
    out
}

impl<'a> SearchView<'a> {
    pub(crate) fn new(
        f: Frame,
        query: &'a SearchQuery,
        results: Option<&'a SearchPage>,
    ) -> SearchView<'a> {
        let mut facets = Vec::new();
        let mut hits = Vec::new();
        let mut next = None;
        if let Some(r) = results {
            for (label, field, values) in [
                (Msg::Site, "site", &r.facets.site),
                (Msg::Language, "lang", &r.facets.lang),
                (Msg::Kind, "kind", &r.facets.kind),
                (Msg::Month, "", &r.facets.month),
            ] {
                let values = values
                    .iter()
                    .map(|(value, count)| FacetValue {
                        value,
                        count: *count,
                        href: (!field.is_empty()).then(|| {
                            let narrowed = format!("{} {field}:{value}", query.q.trim());
                            format!("/search?{}", query_string(&[("q", narrowed.trim())]))
                        }),
                    })
                    .collect();
                facets.push(FacetGroup { label, values });
            }
            hits = r
                .items
                .iter()
                .map(|item| Hit {
                    item,
                    pieces: highlighted(&item.snippet, &item.highlights),
                })
                .collect();
            next = r.next_cursor.as_ref().map(|cursor| {
                format!(
                    "/search?{}",
                    query_string(&[
                        ("q", &query.q),
                        ("site", query.site.as_deref().unwrap_or("")),
                        ("cursor", cursor)
                    ])
                )
            });
        }
        SearchView {
            f,
            q: &query.q,
            results,
            facets,
            hits,
            next,
        }
    }
}

/// GET /search
pub(crate) async fn search(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(query): Query<SearchQuery>,
) -> Response {
    let lang = viewer.lang;
    let frame = Frame::new(Some(&viewer), lang, t(lang, Msg::Search));
    if query.q.trim().is_empty() && query.site.is_none() {
        return html(&SearchView::new(frame, &query, None));
    }
    let q = query.clone();
    let results = match scoped(&state, &viewer.principal, move |s| s.search(&q)).await {
        Ok(r) => r,
        Err(r) => return refusal_page(&viewer, r),
    };
    html(&SearchView::new(frame, &query, Some(&results)))
}

/// The sites page.
#[derive(Template)]
#[template(path = "console/sites.html")]
pub(crate) struct SitesView<'a> {
    pub f: Frame,
    pub sites: &'a [SiteHealth],
}

/// Where a site's session form posts.
pub(crate) fn session_href(site: &str) -> String {
    format!("/sites/{site}/session")
}

/// `yes` or `no`.
pub(crate) fn yes_no(b: &bool) -> Msg {
    if *b {
        Msg::Yes
    } else {
        Msg::No
    }
}

/// GET /sites
pub(crate) async fn sites(State(state): State<ConsoleState>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let sites = match scoped(&state, &viewer.principal, |s| s.sites()).await {
        Ok(s) => s,
        Err(r) => return refusal_page(&viewer, r),
    };
    html(&SitesView {
        f: Frame::new(Some(&viewer), lang, t(lang, Msg::Sites)),
        sites: &sites,
    })
}

/// POST /sites/{site}/session (form: csrf, cookies): as `leakwatch
/// session import`; back to the sites page.
pub(crate) async fn import_session(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(site): Path<String>,
    body: Bytes,
) -> Response {
    let form = match viewer.checked_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let cookies = form.get("cookies").unwrap_or("").to_owned();
    match scoped(&state, &viewer.principal, move |s| {
        s.import_session(&site, &cookies)
    })
    .await
    {
        Ok(_) => (StatusCode::SEE_OTHER, [(header::LOCATION, "/sites")]).into_response(),
        Err(r) => refusal_page(&viewer, r),
    }
}

/// The words for a site's state as `leakwatch sites` names it.
pub(crate) fn site_state_msg(state: &str) -> Msg {
    match state {
        "backing off" => Msg::StateBackingOff,
        "broken" => Msg::StateBroken,
        "needs a human" => Msg::StateNeedsHuman,
        "logged out" => Msg::StateLoggedOut,
        _ => Msg::StateOk,
    }
}

/// The watchlists page.
#[derive(Template)]
#[template(path = "console/watchlists.html")]
pub(crate) struct WatchlistsView<'a> {
    pub f: Frame,
    pub lists: &'a [WatchlistView],
}

/// GET /watchlists
pub(crate) async fn watchlists(State(state): State<ConsoleState>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let lists = match scoped(&state, &viewer.principal, |s| s.watchlists()).await {
        Ok(l) => l,
        Err(r) => return refusal_page(&viewer, r),
    };
    html(&WatchlistsView {
        f: Frame::new(Some(&viewer), lang, t(lang, Msg::Watchlists)),
        lists: &lists,
    })
}
