//! The alert queue (filters, counts by status, bulk triage) and the alert
//! page (the listing with its matched terms and cues marked, its facts,
//! also-seen-at, deliveries, history and the triage form).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html as HtmlResponse, IntoResponse, Response};

use crate::console::api::scoped;
use crate::console::html::query_string;
use crate::console::i18n::{t, Lang, Msg};
use crate::console::marks::pieces;
use crate::console::scoped::{AlertDetail, AlertPage, AlertQuery, Refusal};
use crate::console::ui::{html, refusal_page, Frame, Viewer};
use crate::console::ConsoleState;
use crate::triage::AlertStatus;

/// The link to an alert's page.
pub(crate) fn alert_href(id: &i64) -> String {
    format!("/alerts/{id}")
}

/// One status's count in the queue, with the link that filters by it.
pub(crate) struct StatusCount {
    pub status: &'static str,
    pub count: u64,
    pub href: String,
}

/// The alert queue: counts by status, filters, the page of alerts, the
/// bulk form; `results` is the fragment htmx swaps.
#[derive(Template)]
#[template(path = "console/queue.html", blocks = ["results"])]
pub(crate) struct QueuePage<'a> {
    pub f: Frame,
    pub q: &'a AlertQuery,
    pub page: &'a AlertPage,
    pub total: u64,
    pub counts: Vec<StatusCount>,
    pub next: Option<String>,
    /// The results answer an htmx GET whose URL the browser pushes: the
    /// language switch comes along (out of band) to lead back to it.
    pub pushed: bool,
}

impl<'a> QueuePage<'a> {
    pub(crate) fn new(f: Frame, q: &'a AlertQuery, page: &'a AlertPage) -> QueuePage<'a> {
        let counts = AlertStatus::ALL
            .iter()
            .map(|s| StatusCount {
                status: s.as_str(),
                count: page.counts.get(s.as_str()).copied().unwrap_or(0),
                href: format!("/alerts?{}", query_string(&[("status", s.as_str())])),
            })
            .collect();
        let next = page.next_cursor.as_ref().map(|cursor| {
            let mut next = q.clone();
            next.cursor = Some(cursor.clone());
            format!("/alerts?{}", alert_query_string(&next))
        });
        QueuePage {
            f,
            q,
            page,
            total: page.counts.values().sum(),
            counts,
            next,
            pushed: false,
        }
    }
}

/// The queue for `query`: the whole page, or for htmx the results alone.
async fn render_queue(
    state: &ConsoleState,
    viewer: &Viewer,
    query: AlertQuery,
    pushed: bool,
) -> Response {
    let q = query.clone();
    let page_data = match scoped(state, &viewer.principal, move |s| s.alerts(&q)).await {
        Ok(p) => p,
        Err(r) => return refusal_page(viewer, r),
    };
    let lang = viewer.lang;
    let mut page = QueuePage::new(
        Frame::new(Some(viewer), lang, t(lang, Msg::Alerts)),
        &query,
        &page_data,
    );
    page.pushed = pushed && viewer.htmx;
    if viewer.htmx {
        html(&page.as_results())
    } else {
        html(&page)
    }
}

/// GET /alerts (htmx: the results fragment, for a filter or a page).
pub(crate) async fn queue(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(query): Query<AlertQuery>,
) -> Response {
    render_queue(&state, &viewer, query, true).await
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
        Ok(detail) => html(&AlertView::new(&viewer, &detail, false)),
        Err(r) => refusal_page(&viewer, r),
    }
}

/// A piece of the listing's title or body, and the kind of mark it carries
/// (`term`, `cue`) if any.
pub(crate) type Piece<'a> = (&'a str, Option<&'static str>);

/// The alert page; its blocks `status_badge`, `history`, `triage_form` and
/// `cleared_flash` (with `oob`) are the answer to an htmx triage.
#[derive(Template)]
#[template(
    path = "console/alert.html",
    blocks = ["status_badge", "history", "triage_form", "cleared_flash"]
)]
pub(crate) struct AlertView<'a> {
    pub f: Frame,
    pub d: &'a AlertDetail,
    /// The facts shown, each with a value (label, value).
    pub facts: Vec<(&'static str, String)>,
    /// The crawled address (text to copy).
    pub url: Option<&'a str>,
    pub title_pieces: Vec<Piece<'a>>,
    pub body_pieces: Vec<Piece<'a>>,
    pub evidence: String,
    pub triage: String,
    /// Rendering the htmx answer: the badge, form and flash swap out of band.
    pub oob: bool,
}

impl<'a> AlertView<'a> {
    pub(crate) fn new(viewer: &Viewer, d: &'a AlertDetail, oob: bool) -> AlertView<'a> {
        let lang = viewer.lang;
        let a = &d.summary;
        let doc = d.document.as_ref();
        let facts = facts(lang, d);
        let url = a.alert.url.as_deref().or(doc.map(|d| d.url.as_str()));
        AlertView {
            f: Frame::new(
                Some(viewer),
                lang,
                &format!("#{} {}", a.id, a.alert.asset_name),
            ),
            d,
            facts,
            url,
            title_pieces: doc
                .and_then(|d| d.title.as_deref())
                .map(|text| pieces(text, &d.marks, "title"))
                .unwrap_or_default(),
            body_pieces: doc
                .and_then(|d| d.body.as_deref())
                .map(|text| pieces(text, &d.marks, "body"))
                .unwrap_or_default(),
            evidence: format!("/api/v1/alerts/{}/evidence", a.id),
            triage: format!("/alerts/{}/status", a.id),
            oob,
        }
    }

    /// The answer to an htmx triage: the new history, and the status
    /// badge, a fresh form and an empty flash out of band.
    fn triaged_fragment(&self) -> Result<String, askama::Error> {
        let mut out = self.as_history().render()?;
        out.push_str(&self.as_status_badge().render()?);
        out.push_str(&self.as_triage_form().render()?);
        out.push_str(&self.as_cleared_flash().render()?);
        Ok(out)
    }
}

/// The facts of an alert that have a value, labelled in `lang`.
fn facts(lang: Lang, d: &AlertDetail) -> Vec<(&'static str, String)> {
    let a = &d.summary;
    let mut facts: Vec<(Msg, Option<String>)> = vec![
        (Msg::Site, a.alert.site.clone()),
        (Msg::FirstSeen, Some(a.first_seen.clone())),
        (Msg::LastSeen, Some(a.last_seen.clone())),
    ];
    if let Some(doc) = &d.document {
        facts.extend([
            (Msg::Price, doc.price.clone()),
            (Msg::Seller, doc.seller.clone()),
            (Msg::Posted, doc.posted_at.map(|t| t.to_rfc3339())),
            (Msg::Fetched, doc.fetched_at.map(|t| t.to_rfc3339())),
        ]);
    }
    facts.push((Msg::Terms, Some(a.alert.terms.join(", "))));
    facts.push((Msg::Cues, Some(a.alert.context.join(", "))));
    facts
        .into_iter()
        .filter_map(|(m, v)| v.filter(|v| !v.is_empty()).map(|v| (t(lang, m), v)))
        .collect()
}

fn back_to(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The htmx answer to a triage that moved alert `id`: its new history,
/// status badge and form, read back from the store.
async fn triaged(state: &ConsoleState, viewer: &Viewer, id: i64) -> Response {
    match scoped(state, &viewer.principal, move |s| s.alert(id)).await {
        Ok(detail) => match AlertView::new(viewer, &detail, true).triaged_fragment() {
            Ok(body) => ([(header::VARY, "HX-Request")], HtmlResponse(body)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "console template failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
        Err(r) => refusal_page(viewer, r),
    }
}

/// POST /alerts/{id}/status (form: csrf, status, note); htmx: the
/// history, status and form fragment instead of the redirect.
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
            None if viewer.htmx => triaged(&state, &viewer, id).await,
            None => back_to(format!("/alerts/{id}")),
            Some(crate::triage::NotMoved::Missing(_)) => refusal_page(&viewer, Refusal::NotFound),
            Some(other) => refusal_page(&viewer, Refusal::Conflict(other.to_string())),
        },
        Err(r) => refusal_page(&viewer, r),
    }
}

/// POST /alerts/bulk (form: csrf, id…, status, note); htmx: the queue's
/// results again, for the filters of the page it was sent from.
pub(crate) async fn bulk(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    headers: HeaderMap,
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
        Ok(_) if viewer.htmx => {
            let query = headers
                .get("hx-current-url")
                .and_then(|v| v.to_str().ok())
                .and_then(|url| url.parse::<Uri>().ok())
                .and_then(|uri| Query::<AlertQuery>::try_from_uri(&uri).ok())
                .map(|Query(q)| q)
                .unwrap_or_default();
            render_queue(&state, &viewer, query, false).await
        }
        Ok(_) => back_to("/alerts".to_owned()),
        Err(r) => refusal_page(&viewer, r),
    }
}
