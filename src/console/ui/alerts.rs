//! The alert queue (filters, counts by status, bulk triage) and the alert
//! page (the listing with its matched terms and cues marked, its facts,
//! also-seen-at, deliveries, history and the triage form).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::console::api::scoped;
use crate::console::html::{query_string, Html};
use crate::console::i18n::{status_name, t, Lang, Msg};
use crate::console::marks::pieces;
use crate::console::scoped::{AlertDetail, AlertQuery, Refusal};
use crate::console::ui::{page, refusal_page, Viewer};
use crate::console::ConsoleState;
use crate::triage::AlertStatus;

/// GET /alerts
pub(crate) async fn queue(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(query): Query<AlertQuery>,
) -> Response {
    let q = query.clone();
    let result = scoped(&state, &viewer.principal, move |s| s.alerts(&q)).await;
    let page_data = match result {
        Ok(p) => p,
        Err(r) => return refusal_page(&viewer, r),
    };
    let lang = viewer.lang;
    let mut h = Html::new();
    h.wrap("<h1>", t(lang, Msg::Alerts), "</h1>");
    // Counts by status, each a link to the filtered queue.
    h.raw("<ul class=\"counts\" id=\"status-counts\">");
    let total: u64 = page_data.counts.values().sum();
    h.raw("<li>")
        .local_link("/alerts", t(lang, Msg::All))
        .raw(" <b>")
        .num(total)
        .raw("</b></li>");
    for status in AlertStatus::ALL {
        let n = page_data.counts.get(status.as_str()).copied().unwrap_or(0);
        h.raw("<li data-status=\"")
            .text(status.as_str())
            .raw("\">")
            .local_link(
                &format!("/alerts?{}", query_string(&[("status", status.as_str())])),
                status_name(lang, status.as_str()),
            )
            .raw(" <b>")
            .num(n)
            .raw("</b></li>");
    }
    h.raw("</ul>");
    filters(
        &mut h,
        lang,
        &query,
        viewer.principal.scope.customer().is_none(),
    );
    if page_data.items.is_empty() {
        h.wrap("<p class=\"empty\">", t(lang, Msg::NoAlerts), "</p>");
    } else {
        h.raw("<form method=\"post\" action=\"/alerts/bulk\" id=\"bulk\">")
            .raw("<input type=\"hidden\" name=\"csrf\" value=\"")
            .text(&viewer.csrf)
            .raw("\"><table class=\"queue\"><thead><tr><th></th><th>#</th><th>")
            .text(t(lang, Msg::Status))
            .raw("</th><th>")
            .text(t(lang, Msg::Severity))
            .raw("</th><th>")
            .text(t(lang, Msg::Customer))
            .raw("</th><th>")
            .text(t(lang, Msg::Asset))
            .raw("</th><th>")
            .text(t(lang, Msg::Site))
            .raw("</th><th>")
            .text(t(lang, Msg::FirstSeen))
            .raw("</th></tr></thead><tbody>");
        for a in &page_data.items {
            let id = a.id.to_string();
            h.raw("<tr class=\"alert-row\" data-id=\"")
                .text(&id)
                .raw("\" data-customer=\"")
                .text(&a.alert.customer)
                .raw("\"><td><input type=\"checkbox\" name=\"id\" value=\"")
                .text(&id)
                .raw("\"></td><td>")
                .local_link(&format!("/alerts/{id}"), &format!("#{id}"))
                .raw("</td><td class=\"status\">")
                .text(status_name(lang, &a.status))
                .raw("</td><td class=\"sev-")
                .text(a.alert.severity.as_str())
                .raw("\">")
                .text(a.alert.severity.as_str())
                .raw("</td><td>")
                .text(&a.alert.customer)
                .raw("</td><td>")
                .local_link(&format!("/alerts/{id}"), &a.alert.asset_name)
                .raw("<div class=\"snippet\">")
                .text(&a.alert.snippet)
                .raw("</div></td><td>")
                .text(a.alert.site.as_deref().unwrap_or("-"))
                .raw("</td><td>")
                .text(&a.first_seen)
                .raw("</td></tr>");
        }
        h.raw("</tbody></table>");
        if viewer.principal.may_triage() {
            h.raw("<fieldset><legend>")
                .text(t(lang, Msg::Bulk))
                .raw("</legend>");
            status_select(&mut h, lang);
            h.raw(" <input type=\"text\" name=\"note\" placeholder=\"")
                .text(t(lang, Msg::Note))
                .raw("\"> <button type=\"submit\">")
                .text(t(lang, Msg::Apply))
                .raw("</button></fieldset>");
        }
        h.raw("</form>");
        if let Some(cursor) = &page_data.next_cursor {
            let mut next = query.clone();
            next.cursor = Some(cursor.clone());
            h.raw("<p>")
                .local_link(
                    &format!("/alerts?{}", alert_query_string(&next)),
                    t(lang, Msg::Next),
                )
                .raw("</p>");
        }
    }
    page(Some(&viewer), lang, t(lang, Msg::Alerts), h)
}

fn alert_query_string(q: &AlertQuery) -> String {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let (customer, status, severity, site, asset, since, until, text, cursor) = (
        v(&q.customer),
        v(&q.status),
        v(&q.severity),
        v(&q.site),
        v(&q.asset),
        v(&q.since),
        v(&q.until),
        v(&q.text),
        v(&q.cursor),
    );
    query_string(&[
        ("customer", &customer),
        ("status", &status),
        ("severity", &severity),
        ("site", &site),
        ("asset", &asset),
        ("since", &since),
        ("until", &until),
        ("text", &text),
        ("cursor", &cursor),
    ])
}

fn filters(h: &mut Html, lang: Lang, q: &AlertQuery, operator: bool) {
    h.raw("<form method=\"get\" action=\"/alerts\" class=\"filters\">");
    let field = |h: &mut Html, name: &'static str, label: Msg, value: &Option<String>| {
        h.raw("<label>")
            .text(t(lang, label))
            .raw(" <input type=\"text\" name=\"")
            .raw(name)
            .raw("\" value=\"")
            .text(value.as_deref().unwrap_or(""))
            .raw("\"></label> ");
    };
    if operator {
        field(h, "customer", Msg::Customer, &q.customer);
    }
    h.raw("<label>")
        .text(t(lang, Msg::Status))
        .raw(" <select name=\"status\"><option value=\"\">")
        .text(t(lang, Msg::All))
        .raw("</option>");
    for s in AlertStatus::ALL {
        h.raw("<option value=\"").text(s.as_str()).raw("\"");
        if q.status.as_deref() == Some(s.as_str()) {
            h.raw(" selected");
        }
        h.raw(">")
            .text(status_name(lang, s.as_str()))
            .raw("</option>");
    }
    h.raw("</select></label> ");
    field(h, "severity", Msg::Severity, &q.severity);
    field(h, "site", Msg::Site, &q.site);
    field(h, "asset", Msg::Asset, &q.asset);
    field(h, "text", Msg::Text, &q.text);
    h.raw("<button type=\"submit\">")
        .text(t(lang, Msg::Filter))
        .raw("</button></form>");
}

fn status_select(h: &mut Html, lang: Lang) {
    h.raw("<select name=\"status\" id=\"status-select\">");
    for s in AlertStatus::SETTABLE {
        h.raw("<option value=\"")
            .text(s.as_str())
            .raw("\">")
            .text(status_name(lang, s.as_str()))
            .raw("</option>");
    }
    h.raw("</select>");
}

/// GET /alerts/{id}: 404 for an id outside the viewer's scope, as for
/// one that does not exist.
pub(crate) async fn alert_page(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return refusal_page(&viewer, Refusal::NotFound);
    };
    match scoped(&state, &viewer.principal, move |s| s.alert(id)).await {
        Ok(detail) => render_alert(&viewer, &detail),
        Err(r) => refusal_page(&viewer, r),
    }
}

fn fact(h: &mut Html, lang: Lang, label: Msg, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        h.raw("<dt>")
            .text(t(lang, label))
            .raw("</dt><dd>")
            .text(v)
            .raw("</dd>");
    }
}

fn marked(h: &mut Html, text: &str, detail: &AlertDetail, field: &str) {
    for (piece, kind) in pieces(text, &detail.marks, field) {
        match kind {
            Some("term") => {
                h.wrap("<mark class=\"term\">", piece, "</mark>");
            }
            Some(_) => {
                h.wrap("<mark class=\"cue\">", piece, "</mark>");
            }
            None => {
                h.text(piece);
            }
        }
    }
}

fn render_alert(viewer: &Viewer, d: &AlertDetail) -> Response {
    let lang = viewer.lang;
    let a = &d.summary;
    let mut h = Html::new();
    h.raw("<h1>#")
        .num(a.id)
        .raw(" ")
        .text(&a.alert.asset_name)
        .raw("</h1>");
    h.raw("<p class=\"badges\"><span class=\"status\" id=\"alert-status\" data-status=\"")
        .text(&a.status)
        .raw("\">")
        .text(status_name(lang, &a.status))
        .raw("</span> <span class=\"sev-")
        .text(a.alert.severity.as_str())
        .raw("\">")
        .text(a.alert.severity.as_str())
        .raw("</span> ")
        .text(&a.alert.customer)
        .raw("</p><dl class=\"facts\">");
    fact(&mut h, lang, Msg::Site, a.alert.site.as_deref());
    fact(&mut h, lang, Msg::FirstSeen, Some(&a.first_seen));
    fact(&mut h, lang, Msg::LastSeen, Some(&a.last_seen));
    if let Some(doc) = &d.document {
        fact(&mut h, lang, Msg::Price, doc.price.as_deref());
        fact(&mut h, lang, Msg::Seller, doc.seller.as_deref());
        fact(
            &mut h,
            lang,
            Msg::Posted,
            doc.posted_at.map(|t| t.to_rfc3339()).as_deref(),
        );
        fact(
            &mut h,
            lang,
            Msg::Fetched,
            doc.fetched_at.map(|t| t.to_rfc3339()).as_deref(),
        );
    }
    fact(&mut h, lang, Msg::Terms, Some(&a.alert.terms.join(", ")));
    fact(&mut h, lang, Msg::Cues, Some(&a.alert.context.join(", ")));
    if let Some(url) = a
        .alert
        .url
        .as_deref()
        .or(d.document.as_ref().map(|d| d.url.as_str()))
    {
        h.raw("<dt>")
            .text(t(lang, Msg::Url))
            .raw("</dt><dd>")
            .crawled_url(url);
        h.raw("<div class=\"hint\">")
            .text(t(lang, Msg::UrlHelp))
            .raw("</div></dd>");
    }
    h.raw("</dl><section class=\"listing\" id=\"listing\"><h2>")
        .text(t(lang, Msg::Document))
        .raw("</h2>");
    match &d.document {
        Some(doc) => {
            if let Some(title) = &doc.title {
                h.raw("<h3 class=\"listing-title\">");
                marked(&mut h, title, d, "title");
                h.raw("</h3>");
            }
            if let Some(body) = &doc.body {
                h.raw("<pre class=\"listing-body\">");
                marked(&mut h, body, d, "body");
                h.raw("</pre>");
            }
        }
        None => {
            h.wrap("<p>", t(lang, Msg::NotIndexed), "</p>").wrap(
                "<pre class=\"listing-body\">",
                &a.alert.snippet,
                "</pre>",
            );
        }
    }
    h.raw("</section>");
    if !d.also_seen_at.is_empty() {
        h.wrap("<h2>", t(lang, Msg::AlsoSeenAt), "</h2>")
            .raw("<ul>");
        for s in &d.also_seen_at {
            h.raw("<li>")
                .text(s.site.as_deref().unwrap_or("-"))
                .raw(" ")
                .crawled_url(s.url.as_deref().unwrap_or(&s.doc_id))
                .raw(" ")
                .text(&s.seen_at)
                .raw("</li>");
        }
        h.raw("</ul>");
    }
    h.wrap("<h2>", t(lang, Msg::Evidence), "</h2>")
        .raw("<p>")
        .local_link(
            &format!("/api/v1/alerts/{}/evidence", d.summary.id),
            t(lang, Msg::EvidenceBundle),
        )
        .raw("</p>");
    h.wrap("<h2>", t(lang, Msg::Deliveries), "</h2>")
        .raw("<ul>");
    for del in &d.deliveries {
        h.raw("<li>")
            .text(&del.sink)
            .raw(": ")
            .text(&del.status)
            .raw(" (")
            .num(del.attempts)
            .raw(") ")
            .text(del.delivered_at.as_deref().unwrap_or(""))
            .text(del.last_error.as_deref().unwrap_or(""))
            .raw("</li>");
    }
    h.raw("</ul>");
    h.wrap("<h2>", t(lang, Msg::History), "</h2>")
        .raw("<ol id=\"history\">");
    for e in &d.history {
        h.raw("<li>")
            .text(&e.at)
            .raw(" <b>")
            .text(&e.actor)
            .raw("</b> ")
            .text(status_name(lang, &e.from))
            .raw(" → ")
            .text(status_name(lang, &e.to));
        if !e.note.is_empty() {
            h.raw(": ").wrap("<q>", &e.note, "</q>");
        }
        h.raw("</li>");
    }
    h.raw("</ol>");
    if viewer.principal.may_triage() {
        h.wrap("<h2>", t(lang, Msg::Triage), "</h2>")
            .raw("<form method=\"post\" id=\"triage\" action=\"/alerts/")
            .num(a.id)
            .raw("/status\"><input type=\"hidden\" name=\"csrf\" value=\"")
            .text(&viewer.csrf)
            .raw("\">");
        status_select(&mut h, lang);
        h.raw(" <input type=\"text\" name=\"note\" id=\"note\" placeholder=\"")
            .text(t(lang, Msg::Note))
            .raw("\"> <button type=\"submit\" id=\"apply\">")
            .text(t(lang, Msg::Apply))
            .raw("</button></form>");
    }
    page(
        Some(viewer),
        lang,
        &format!("#{} {}", a.id, a.alert.asset_name),
        h,
    )
}

fn back_to(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// POST /alerts/{id}/status (form: csrf, status, note)
pub(crate) async fn triage(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let form = match viewer.checked_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let status = form.get("status").unwrap_or("").to_owned();
    let note = form.get("note").unwrap_or("").to_owned();
    let result = scoped(&state, &viewer.principal, move |s| {
        s.set_status(&[id], &status, &note)
    })
    .await;
    match result {
        Ok(not_moved) => match not_moved.first() {
            None => back_to(format!("/alerts/{id}")),
            Some(crate::triage::NotMoved::Missing(_)) => refusal_page(&viewer, Refusal::NotFound),
            Some(other) => refusal_page(&viewer, Refusal::Conflict(other.to_string())),
        },
        Err(r) => refusal_page(&viewer, r),
    }
}

/// POST /alerts/bulk (form: csrf, id…, status, note)
pub(crate) async fn bulk(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    body: Bytes,
) -> Response {
    let form = match viewer.checked_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let ids: Vec<i64> = form.all("id").filter_map(|v| v.parse().ok()).collect();
    let status = form.get("status").unwrap_or("").to_owned();
    let note = form.get("note").unwrap_or("").to_owned();
    match scoped(&state, &viewer.principal, move |s| {
        s.set_status(&ids, &status, &note)
    })
    .await
    {
        Ok(_) => back_to("/alerts".to_owned()),
        Err(r) => refusal_page(&viewer, r),
    }
}
