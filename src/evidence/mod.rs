//! The evidence archive: every page that raised an alert (or every page,
//! with `evidence = "all"`) kept as it was received — raw bytes, status,
//! headers, URLs, transport, identity, encoding, SHA-256 — with the
//! versions of each document, and the bundles that let someone else check
//! a page without leakwatch. Written by the pipeline before the alert is
//! recorded; never fetches.

mod bundle;
mod content;
mod retention;
mod store;

use anyhow::Context;
use chrono::Utc;
use crawler::{Document, PageCapture};

pub(crate) use bundle::{MANIFEST, MANIFEST_HASH};
pub(crate) use retention::Retention;
pub(crate) use store::{CaptureRow, EvidenceStore, VersionRow};

use crate::alert_store::{AlertFilter, AlertStore, StoredAlert};
use crate::config::{EvidenceConfig, EvidenceMode};

/// The archive as the pipeline writes it.
#[derive(Clone)]
pub(crate) struct Evidence {
    pub store: EvidenceStore,
    pub mode: EvidenceMode,
    /// How an operator knows the transport, when the capture's own name is
    /// the embedded Tor client's local bridge (`embedded-tor`).
    pub transport: Option<String>,
}

impl Evidence {
    /// Keeps `capture` as the evidence of `doc` if the settings ask: always
    /// when the document raised alerts (`alerting`: durably before this
    /// returns, as the alert is recorded next), and with `all` or when the
    /// document already has versions (a later change of an alert's
    /// listing), durably at the next [`Evidence::flush`].
    pub(crate) fn keep(
        &self,
        doc: &Document,
        capture: &PageCapture,
        alerting: bool,
    ) -> anyhow::Result<()> {
        let context = || format!("cannot keep the evidence of {} ({})", doc.id, doc.url);
        let transport = self.transport.as_deref();
        if alerting {
            let kept = self
                .store
                .archive_now(doc, capture, transport)
                .with_context(context)?;
            tracing::debug!(doc = %doc.id, sha256 = %kept.sha256, version = kept.version, new_version = kept.new_version, "evidence kept");
        } else if self.mode == EvidenceMode::All || self.store.has_versions(&doc.id)? {
            self.store
                .archive_later(doc, capture, transport)
                .with_context(context)?;
        }
        Ok(())
    }

    /// Makes every page kept so far durable: before the documents they came
    /// with are acknowledged to the crawler's outbox.
    pub(crate) fn flush(&self) -> anyhow::Result<()> {
        self.store
            .flush()
            .map(|_| ())
            .context("cannot make the evidence archive durable")
    }
}

/// The retention of `config`.
pub(crate) fn retention(config: &EvidenceConfig) -> Retention {
    Retention {
        max_age: config.max_age,
        max_bytes: config.max_bytes,
    }
}

/// What `leakwatch evidence ID` bundles.
pub(crate) struct Subject {
    /// The alert asked for, if an alert id was given.
    pub alert: Option<StoredAlert>,
    pub doc_id: String,
    /// The version bundled: for an alert, the one current when it was
    /// first seen; for a document, the latest.
    pub version: VersionRow,
    /// Every version of the document, oldest first.
    pub versions: Vec<VersionRow>,
    pub capture: CaptureRow,
}

/// Finds the evidence of `id`: an alert id (a number) or a document id.
/// `Ok(None)`: no such alert or document in the archive.
pub(crate) fn find(
    store: &EvidenceStore,
    alerts: &AlertStore,
    id: &str,
) -> anyhow::Result<Option<Subject>> {
    let (alert, doc_id) = match id.parse::<i64>() {
        Ok(n) => {
            let Some(alert) = alerts
                .list(&AlertFilter::default())?
                .into_iter()
                .find(|a| a.id == n)
            else {
                return Ok(None);
            };
            let doc_id = alert.alert.doc_id.clone();
            (Some(alert), doc_id)
        }
        Err(_) => (None, id.to_owned()),
    };
    let versions = store.versions(&doc_id)?;
    let version = match &alert {
        Some(a) => version_at(&versions, &a.first_seen),
        None => versions.last(),
    };
    let Some(version) = version.cloned() else {
        return Ok(None);
    };
    let capture = store.capture(&version.sha256)?.with_context(|| {
        format!(
            "{doc_id} version {}: its page {} has no row in the state store",
            version.version, version.sha256
        )
    })?;
    Ok(Some(Subject {
        alert,
        doc_id,
        version,
        versions,
        capture,
    }))
}

/// The version of a document an alert first seen at `first_seen` (RFC 3339
/// UTC, as the alert store writes it) was raised on: the last recorded by
/// then (the archive writes it just before the alert), else the first.
pub(crate) fn version_at<'a>(
    versions: &'a [VersionRow],
    first_seen: &str,
) -> Option<&'a VersionRow> {
    // Both times are RFC 3339 UTC to the second: text order is time order.
    versions
        .iter()
        .rev()
        .find(|v| v.recorded_at.as_str() <= first_seen)
        .or(versions.first())
}

/// The page an alert was raised on, for exports: its SHA-256, size and
/// content type. `None` when the archive has no page for the alert.
pub(crate) fn alert_page(
    store: &EvidenceStore,
    alert: &StoredAlert,
) -> anyhow::Result<Option<crate::export::PageEvidence>> {
    let versions = store.versions(&alert.alert.doc_id)?;
    let Some(version) = version_at(&versions, &alert.first_seen) else {
        return Ok(None);
    };
    let Some(capture) = store.capture(&version.sha256)? else {
        return Ok(None);
    };
    let content_type = capture
        .headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.clone());
    Ok(Some(crate::export::PageEvidence {
        sha256: capture.sha256,
        size: capture.size,
        content_type,
    }))
}

/// The bundle of `subject`: `page.raw`, `page.txt`, `metadata.json`,
/// `SHA256SUMS`, `SHA256SUMS.sha256`. The page's bytes are checked against
/// their SHA-256 on the way.
pub(crate) fn bundle(store: &EvidenceStore, subject: &Subject) -> anyhow::Result<Vec<u8>> {
    let raw = store.read_page(&subject.version.sha256)?;
    let metadata = metadata(subject);
    let metadata = serde_json::to_vec_pretty(&metadata).context("evidence metadata serialises")?;
    let at = store::parse_time(&subject.capture.fetched_at).unwrap_or_else(Utc::now);
    bundle::bundle(
        &[
            ("page.raw", &raw),
            ("page.txt", subject.version.text.as_bytes()),
            ("metadata.json", &metadata),
        ],
        at,
    )
}

/// `metadata.json`: what the files are, the fetch, the document's versions
/// with their changes, and the alert.
pub(crate) fn metadata(subject: &Subject) -> serde_json::Value {
    serde_json::json!({
        "generator": format!("leakwatch {}", env!("CARGO_PKG_VERSION")),
        "files": {
            "page.raw": "the response body as received: after the HTTP transfer's own compression was undone, before any charset decoding",
            "page.txt": "the text leakwatch extracted from it (title, a newline, body)",
            "metadata.json": "this file",
            MANIFEST: "SHA-256 of every file above: `sha256sum -c SHA256SUMS`",
            MANIFEST_HASH: "SHA-256 of SHA256SUMS: `sha256sum -c SHA256SUMS.sha256`",
        },
        "page": subject.capture,
        "doc_id": subject.doc_id,
        "version": subject.version.version,
        "document": subject.version.document,
        "versions": subject.versions,
        "alert": subject.alert,
    })
}
