//! The search page (hits with highlighted snippets, facets as links), the
//! sites page (crawl health) and the watchlists page.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::console::api::scoped;
use crate::console::html::{query_string, Html};
use crate::console::i18n::{t, Msg};
use crate::console::scoped::SearchQuery;
use crate::console::ui::{page, refusal_page, Viewer};
use crate::console::ConsoleState;

/// GET /search
pub(crate) async fn search(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(query): Query<SearchQuery>,
) -> Response {
    let lang = viewer.lang;
    let mut h = Html::new();
    h.wrap("<h1>", t(lang, Msg::Search), "</h1>")
        .raw("<form method=\"get\" action=\"/search\" class=\"filters\"><input type=\"search\" name=\"q\" id=\"q\" value=\"")
        .text(&query.q)
        .raw("\" placeholder=\"")
        .text(t(lang, Msg::Query))
        .raw("\"> <button type=\"submit\" id=\"search-go\">")
        .text(t(lang, Msg::Search))
        .raw("</button></form>");
    if query.q.trim().is_empty() && query.site.is_none() {
        return page(Some(&viewer), lang, t(lang, Msg::Search), h);
    }
    let q = query.clone();
    let results = match scoped(&state, &viewer.principal, move |s| s.search(&q)).await {
        Ok(r) => r,
        Err(r) => return refusal_page(&viewer, r),
    };
    h.raw("<p id=\"total\"><b>")
        .num(results.total as u64)
        .raw("</b> ")
        .text(t(lang, Msg::Matches))
        .raw("</p><div class=\"columns\"><aside class=\"facets\">");
    let facet_groups = [
        (Msg::Site, "site", &results.facets.site),
        (Msg::Language, "lang", &results.facets.lang),
        (Msg::Kind, "kind", &results.facets.kind),
        (Msg::Month, "", &results.facets.month),
    ];
    for (label, field, values) in facet_groups {
        h.wrap("<h3>", t(lang, label), "</h3>").raw("<ul>");
        for (value, n) in values.iter() {
            h.raw("<li>");
            if field.is_empty() {
                h.text(value);
            } else {
                let narrowed = format!("{} {field}:{value}", query.q.trim());
                h.local_link(
                    &format!("/search?{}", query_string(&[("q", narrowed.trim())])),
                    value,
                );
            }
            h.raw(" <b>").num(*n).raw("</b></li>");
        }
        h.raw("</ul>");
    }
    h.raw("</aside><ol class=\"hits\">");
    for hit in &results.items {
        let d = &hit.document;
        h.raw("<li class=\"hit\" data-id=\"")
            .text(&d.id)
            .raw("\"><div class=\"hit-title\">")
            .text(d.title.as_deref().unwrap_or("(no title)"))
            .raw("</div><div class=\"meta\">")
            .text(&d.site)
            .raw(" · ")
            .text(d.lang.as_deref().unwrap_or("-"))
            .raw(" · ")
            .text(&d.kind);
        if let Some(p) = &d.price {
            h.raw(" · ").text(p);
        }
        for a in &d.alerts {
            h.raw(" · <span class=\"alert-key\">")
                .text(a)
                .raw("</span>");
        }
        h.raw("</div><div class=\"snippet\">");
        let mut at = 0;
        for [s, e] in &hit.highlights {
            let (s, e) = (*s, *e);
            if s < at
                || e > hit.snippet.len()
                || !hit.snippet.is_char_boundary(s)
                || !hit.snippet.is_char_boundary(e)
            {
                continue;
            }
            h.text(&hit.snippet[at..s])
                .wrap("<mark>", &hit.snippet[s..e], "</mark>");
            at = e;
        }
        h.text(&hit.snippet[at..])
            .raw("</div>")
            .crawled_url(&d.url)
            .raw("</li>");
    }
    h.raw("</ol></div>");
    if let Some(cursor) = &results.next_cursor {
        let link = format!(
            "/search?{}",
            query_string(&[
                ("q", &query.q),
                ("site", query.site.as_deref().unwrap_or("")),
                ("cursor", cursor)
            ])
        );
        h.raw("<p>")
            .local_link(&link, t(lang, Msg::Next))
            .raw("</p>");
    }
    page(Some(&viewer), lang, t(lang, Msg::Search), h)
}

/// GET /sites
pub(crate) async fn sites(State(state): State<ConsoleState>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let sites = match scoped(&state, &viewer.principal, |s| s.sites()).await {
        Ok(s) => s,
        Err(r) => return refusal_page(&viewer, r),
    };
    let mut h = Html::new();
    h.wrap("<h1>", t(lang, Msg::Sites), "</h1>")
        .raw("<table><thead><tr>");
    for m in [
        Msg::Site,
        Msg::State,
        Msg::LastSuccess,
        Msg::Pages24h,
        Msg::Failures24h,
        Msg::Failing,
        Msg::Breaker,
        Msg::LoggedOut,
    ] {
        h.wrap("<th>", t(lang, m), "</th>");
    }
    h.raw("</tr></thead><tbody>");
    for s in &sites {
        h.raw("<tr class=\"site\"><td>")
            .text(&s.site)
            .raw("</td><td class=\"state\">")
            .text(t(lang, site_state_msg(&s.state)));
        if let Some(reason) = s.reason.as_deref().filter(|_| s.needs_human) {
            h.raw("<br><small>").text(reason).raw("</small>");
        }
        h.raw("</td><td>")
            .text(s.last_success.as_deref().unwrap_or("-"))
            .raw("</td><td>")
            .num(s.pages_24h)
            .raw("</td><td>")
            .num(s.failures_24h)
            .raw("</td><td>")
            .num(s.failing)
            .raw("</td><td>")
            .text(&s.circuit_breaker);
        if let Some(until) = &s.paused_until {
            h.raw(" → ").text(until);
        }
        if let Some(reason) = &s.pause_reason {
            h.raw(" (").text(reason).raw(")");
        }
        h.raw("</td><td>")
            .text(t(lang, if s.logged_out { Msg::Yes } else { Msg::No }))
            .raw("</td></tr>");
        // A site waiting for a person: the session they made goes here.
        if (s.needs_human || s.logged_out) && viewer.principal.may_triage() {
            h.raw("<tr class=\"import\"><td colspan=\"8\"><form method=\"post\" action=\"/sites/")
                .text(&s.site)
                .raw("/session\"><input type=\"hidden\" name=\"csrf\" value=\"")
                .text(&viewer.csrf)
                .raw("\"> <input type=\"text\" name=\"cookies\" autocomplete=\"off\" placeholder=\"name=value; other=value\"> <button type=\"submit\">")
                .text(t(lang, Msg::ImportSession))
                .raw("</button></form></td></tr>");
        }
    }
    h.raw("</tbody></table>");
    page(Some(&viewer), lang, t(lang, Msg::Sites), h)
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
fn site_state_msg(state: &str) -> Msg {
    match state {
        "backing off" => Msg::StateBackingOff,
        "broken" => Msg::StateBroken,
        "needs a human" => Msg::StateNeedsHuman,
        "logged out" => Msg::StateLoggedOut,
        _ => Msg::StateOk,
    }
}

/// GET /watchlists
pub(crate) async fn watchlists(State(state): State<ConsoleState>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let lists = match scoped(&state, &viewer.principal, |s| s.watchlists()).await {
        Ok(l) => l,
        Err(r) => return refusal_page(&viewer, r),
    };
    let mut h = Html::new();
    h.wrap("<h1>", t(lang, Msg::Watchlists), "</h1>")
        .raw("<table><thead><tr>");
    for m in [
        Msg::File,
        Msg::Customer,
        Msg::Asset,
        Msg::Valid,
        Msg::Errors,
    ] {
        h.wrap("<th>", t(lang, m), "</th>");
    }
    h.raw("</tr></thead><tbody>");
    for w in &lists {
        h.raw("<tr class=\"watchlist\"><td>")
            .text(&w.file)
            .raw("</td><td>")
            .text(w.customer.as_deref().unwrap_or("-"))
            .raw("</td><td>")
            .text(&w.assets.join(", "))
            .raw("</td><td>")
            .text(t(lang, if w.valid { Msg::Yes } else { Msg::No }))
            .raw("<div class=\"hint\">")
            .text(&w.checked_at)
            .raw("</div></td><td>");
        for e in &w.errors {
            h.wrap("<div class=\"error\">", e, "</div>");
        }
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table>");
    page(Some(&viewer), lang, t(lang, Msg::Watchlists), h)
}
