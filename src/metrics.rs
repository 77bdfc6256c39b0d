//! Service metrics in the Prometheus text format, and the `/metrics` and
//! `/healthz` endpoints on a local address.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::get;
use axum::Router;

/// Counters and gauges of a running service.
#[derive(Default)]
pub(crate) struct Metrics {
    pages_fetched: Mutex<BTreeMap<String, u64>>,
    pages_failed: Mutex<BTreeMap<String, u64>>,
    delivered: Mutex<BTreeMap<String, u64>>,
    /// 1 for a site stopped until a person passes its wall, 0 once resumed.
    needs_human: Mutex<BTreeMap<String, u64>>,
    pub documents: AtomicU64,
    /// Documents set aside after failing every try.
    pub dead_letters: AtomicU64,
    pub alerts_raised: AtomicU64,
    pub delivery_failures: AtomicU64,
    pub index_docs: AtomicU64,
    /// The evidence archive's size on disk.
    pub evidence_bytes: AtomicU64,
    pub queue_depth: AtomicU64,
    pub pending_deliveries: AtomicU64,
    pub reloads: AtomicU64,
    pub reload_failures: AtomicU64,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str, by: u64) {
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *map.entry(key.to_owned()).or_default() += by;
}

impl Metrics {
    pub(crate) fn page_fetched(&self, site: &str) {
        bump(&self.pages_fetched, site, 1);
    }

    pub(crate) fn page_failed(&self, site: &str) {
        bump(&self.pages_failed, site, 1);
    }

    /// Whether `site` is stopped for a person (a CAPTCHA, a queue, a login).
    pub(crate) fn site_needs_human(&self, site: &str, stopped: bool) {
        let mut map = self
            .needs_human
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(site.to_owned(), u64::from(stopped));
    }

    pub(crate) fn alerts_delivered(&self, sink: &str, n: u64) {
        bump(&self.delivered, sink, n);
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let labelled = |out: &mut String,
                        (name, kind): (&str, &str),
                        help: &str,
                        label: &str,
                        map: &Mutex<BTreeMap<String, u64>>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            let map = map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (k, v) in map.iter() {
                let k = k.replace('\\', "\\\\").replace('"', "\\\"");
                let _ = writeln!(out, "{name}{{{label}=\"{k}\"}} {v}");
            }
        };
        labelled(
            &mut out,
            ("leakwatch_pages_fetched_total", "counter"),
            "Pages fetched.",
            "site",
            &self.pages_fetched,
        );
        labelled(
            &mut out,
            ("leakwatch_pages_failed_total", "counter"),
            "Pages that could not be fetched.",
            "site",
            &self.pages_failed,
        );
        labelled(
            &mut out,
            ("leakwatch_alerts_delivered_total", "counter"),
            "Alerts delivered.",
            "sink",
            &self.delivered,
        );
        labelled(
            &mut out,
            ("leakwatch_site_needs_human", "gauge"),
            "1 while a site is stopped until a person passes its CAPTCHA, queue or login (`leakwatch session import`).",
            "site",
            &self.needs_human,
        );
        let plain = [
            (
                "leakwatch_documents_processed_total",
                "counter",
                "Documents matched and indexed.",
                &self.documents,
            ),
            (
                "leakwatch_documents_dead_lettered_total",
                "counter",
                "Documents set aside after failing every try (see `leakwatch sites`).",
                &self.dead_letters,
            ),
            (
                "leakwatch_alerts_raised_total",
                "counter",
                "New alerts raised.",
                &self.alerts_raised,
            ),
            (
                "leakwatch_delivery_failures_total",
                "counter",
                "Failed delivery attempts.",
                &self.delivery_failures,
            ),
            (
                "leakwatch_reloads_total",
                "counter",
                "Successful watchlist/profile reloads.",
                &self.reloads,
            ),
            (
                "leakwatch_reload_failures_total",
                "counter",
                "Reloads rejected (previous version kept).",
                &self.reload_failures,
            ),
            (
                "leakwatch_index_docs",
                "gauge",
                "Documents in the index.",
                &self.index_docs,
            ),
            (
                "leakwatch_evidence_bytes",
                "gauge",
                "Bytes the evidence archive holds on disk (compressed pages).",
                &self.evidence_bytes,
            ),
            (
                "leakwatch_document_queue_depth",
                "gauge",
                "Documents waiting between crawler and indexer.",
                &self.queue_depth,
            ),
            (
                "leakwatch_pending_deliveries",
                "gauge",
                "Deliveries waiting in the outbox.",
                &self.pending_deliveries,
            ),
        ];
        for (name, kind, help, value) in plain {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// Serves `/metrics` and `/healthz` on `addr` until the runtime stops.
pub(crate) async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> anyhow::Result<SocketAddr> {
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(m): State<Arc<Metrics>>| async move { m.render() }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(metrics);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("metrics_addr {addr}: cannot listen: {e}"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server failed");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.page_fetched("demo-market");
        m.page_fetched("demo-market");
        m.alerts_raised.fetch_add(3, Ordering::Relaxed);
        let text = m.render();
        assert!(
            text.contains("leakwatch_pages_fetched_total{site=\"demo-market\"} 2"),
            "{text}"
        );
        assert!(text.contains("leakwatch_alerts_raised_total 3"), "{text}");
        assert!(text.contains("# TYPE leakwatch_index_docs gauge"), "{text}");
        m.evidence_bytes.store(107_089, Ordering::Relaxed);
        let text = m.render();
        assert!(
            text.contains("# TYPE leakwatch_evidence_bytes gauge\nleakwatch_evidence_bytes 107089"),
            "{text}"
        );
    }
}
