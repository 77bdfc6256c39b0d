//! The path of one document after extraction: match the watchlists, record
//! alerts (and queue their deliveries) in the alert store, write the
//! document with its alerts to the index. The consume loop takes the
//! crawler's deliveries down that path, sets aside a document that keeps
//! failing, commits by one [`CommitPolicy`] and only then acknowledges the
//! documents to the frontier. Also re-runs changed watchlists over the
//! documents already indexed (retro-hunt). Never fetches, never sends.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use crawler::{Crawler, Delivery, Document, PageCapture, Receipt};
use indexer::{DocumentIndex, IndexDocument, SearchRequest, WriterMemory};
use tokio::sync::mpsc;
use watchlists::{Alert, Matcher};

use crate::alert_store::{AlertStore, Recorded};
use crate::config::{Schedule, SinkConfig};
use crate::convert::{document_entities, index_document, match_view, with_entities};
use crate::dead_letters::{self, DeadLetters, Handled};
use crate::evidence::{Evidence, EvidenceStore};
use crate::neardup::simhash;
use crate::{delivery, paths};

/// Pause before a failed document's next try (times the try number).
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// How often the consume loop looks at the clock while no document comes.
const TICK: Duration = Duration::from_secs(1);

/// An alert as the pipeline saw it.
pub(crate) struct RaisedAlert {
    pub recorded: Recorded,
    pub alert: Alert,
}

impl RaisedAlert {
    pub(crate) fn is_new(&self) -> bool {
        matches!(self.recorded, Recorded::New(_))
    }
}

/// When the consume loop commits the index and then acknowledges the
/// documents since the last commit to the frontier: once `every_docs` of
/// them wait, or `every` after the last commit if any wait, and always when
/// the documents stop. The only commit schedule: the index writer's own
/// policy stays manual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommitPolicy {
    pub every_docs: usize,
    pub every: Duration,
}

impl CommitPolicy {
    /// The service configuration's `commit_every_docs` and `commit_every_secs`.
    pub(crate) fn from_schedule(schedule: &Schedule) -> CommitPolicy {
        CommitPolicy {
            every_docs: schedule.commit_every_docs,
            every: schedule.commit_every,
        }
    }

    /// Whether `waiting` documents, the last commit `since` ago, are due.
    pub(crate) fn is_due(&self, waiting: usize, since: Duration) -> bool {
        waiting >= self.every_docs || (waiting > 0 && since >= self.every)
    }
}

impl Default for CommitPolicy {
    /// The service configuration's defaults.
    fn default() -> Self {
        CommitPolicy {
            every_docs: 200,
            every: Duration::from_secs(10),
        }
    }
}

/// A new generation of watchlists for the consume loop.
pub(crate) struct Reload {
    pub matcher: Matcher,
    /// `customer/asset` keys that are new or changed: retro-hunt these.
    pub changed: HashSet<String>,
}

/// What the consume loop did, told as it happens.
pub(crate) enum Consumed {
    /// A document went through: its alerts (new and known), or none when it
    /// was `set_aside` as a dead letter; `queued` documents wait behind it.
    Document {
        raised: Vec<RaisedAlert>,
        set_aside: bool,
        queued: usize,
    },
    /// A reload's new or changed assets were retro-hunted over the index.
    RetroHunt { raised: Vec<RaisedAlert> },
    /// The index was committed (it holds `index_docs` documents; the
    /// evidence archive `evidence_bytes` on disk) and the documents before
    /// the commit acknowledged.
    Committed {
        index_docs: u64,
        evidence_bytes: u64,
    },
}

/// Receipts of the documents handled since the last commit.
struct Unacknowledged {
    receipts: Vec<Receipt>,
    last_commit: Instant,
}

impl Unacknowledged {
    /// Whether `policy` says to commit them now.
    fn due(&self, policy: &CommitPolicy) -> bool {
        policy.is_due(self.receipts.len(), self.last_commit.elapsed())
    }
}

pub(crate) struct Pipeline {
    index: DocumentIndex,
    matcher: Matcher,
    store: AlertStore,
    evidence: Evidence,
    dead_letters: DeadLetters,
    sinks: Vec<SinkConfig>,
    policy: CommitPolicy,
    pub documents: usize,
}

impl Pipeline {
    /// Opens the index and the state store in `data_dir`.
    pub(crate) fn open(data_dir: &Path, matcher: Matcher) -> anyhow::Result<Pipeline> {
        let index_dir = paths::index_dir(data_dir);
        // An index of an older schema is rebuilt on open; say so, with
        // progress, rather than look hung for the minutes a big one takes.
        let mut last_logged = 0u64;
        let mut index = DocumentIndex::open_or_create_with_progress(&index_dir, |p| {
            if p.done == 0 || p.done >= last_logged + 50_000 || p.done == p.total {
                last_logged = p.done;
                tracing::info!(
                    done = p.done,
                    total = p.total,
                    "rebuilding the index for this version"
                );
            }
        })
        .with_context(|| format!("cannot open the index in {}", index_dir.display()))?;
        // Documents come a few hundred between commits: a writer sized for
        // bulk loads (96 MB over every core, segment writers rebuilt at each
        // commit) held several times the crawl's own memory.
        index.set_writer_memory(WriterMemory::STREAM);
        let state_db = paths::state_db(data_dir);
        Ok(Pipeline {
            index,
            matcher,
            store: AlertStore::open(&state_db)?,
            evidence: Evidence {
                store: EvidenceStore::open(data_dir, &state_db)?,
                mode: Default::default(),
                transport: None,
            },
            dead_letters: DeadLetters::open(&state_db)?,
            sinks: Vec::new(),
            policy: CommitPolicy::default(),
            documents: 0,
        })
    }

    /// Queues deliveries of new alerts to these sinks.
    pub(crate) fn with_sinks(mut self, sinks: Vec<SinkConfig>) -> Pipeline {
        self.sinks = sinks;
        self
    }

    /// Keeps evidence by these settings (`evidence = "alerts"` without).
    pub(crate) fn with_evidence(
        mut self,
        config: &crate::config::EvidenceConfig,
        transport: Option<String>,
    ) -> Pipeline {
        self.evidence.mode = config.mode;
        self.evidence.transport = transport;
        self
    }

    /// The evidence archive written to.
    pub(crate) fn evidence(&self) -> &EvidenceStore {
        &self.evidence.store
    }

    /// Commits by this policy in the consume loop.
    pub(crate) fn with_commit_policy(mut self, policy: CommitPolicy) -> Pipeline {
        self.policy = policy;
        self
    }

    /// The alert store the pipeline records into: the one connection, for
    /// the delivery task to share.
    pub(crate) fn alert_store(&self) -> AlertStore {
        self.store.clone()
    }

    /// The index written to (read for its size).
    pub(crate) fn index(&self) -> &DocumentIndex {
        &self.index
    }

    /// Takes every document `crawler` delivers down the pipeline until the
    /// crawl is over (the sender is dropped), and swaps in the watchlists of
    /// each reload (retro-hunting their changes), telling `report` what it
    /// did. Documents are acknowledged to the crawler's frontier only after
    /// the commit that holds them, so a kill at any moment redelivers
    /// instead of losing them. Returns an error, and stops, only when the
    /// index, the state store or the frontier cannot be written.
    pub(crate) async fn consume(
        &mut self,
        crawler: &Crawler,
        mut documents: mpsc::Receiver<Delivery>,
        mut reloads: Option<mpsc::Receiver<Reload>>,
        mut report: impl FnMut(Consumed),
    ) -> anyhow::Result<()> {
        let mut waiting = Unacknowledged {
            receipts: Vec::new(),
            last_commit: Instant::now(),
        };
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                delivery = documents.recv() => {
                    let Some(Delivery { document, receipt, capture }) = delivery else {
                        break; // the crawl is over, or the service stopping
                    };
                    let (raised, set_aside) = match self.handle(&document, capture.as_deref()).await? {
                        Handled::Done(raised) => (raised, false),
                        Handled::SetAside { .. } => (Vec::new(), true),
                    };
                    waiting.receipts.push(receipt);
                    report(Consumed::Document {
                        raised,
                        set_aside,
                        queued: documents.max_capacity() - documents.capacity(),
                    });
                    if waiting.due(&self.policy) {
                        self.commit_and_acknowledge(crawler, &mut waiting, &mut report)?;
                    }
                }
                Some(reload) = next_reload(&mut reloads) => {
                    self.matcher = reload.matcher;
                    if !reload.changed.is_empty() {
                        let raised = self.retro_hunt(&reload.changed, None)?;
                        report(Consumed::RetroHunt { raised });
                    }
                }
                _ = tick.tick() => if waiting.due(&self.policy) {
                    self.commit_and_acknowledge(crawler, &mut waiting, &mut report)?;
                },
            }
        }
        self.commit_and_acknowledge(crawler, &mut waiting, &mut report)
    }

    /// Processes one delivered document, trying again a few times if it
    /// fails. One that keeps failing is set aside as a dead letter, to be
    /// acknowledged rather than come back first after every restart. A
    /// failure of the whole store is returned at once: no retry of one
    /// document can mend it.
    async fn handle(
        &mut self,
        document: &Document,
        capture: Option<&PageCapture>,
    ) -> anyhow::Result<Handled<Vec<RaisedAlert>>> {
        let handled = dead_letters::with_retries(RETRY_PAUSE, || self.process(document, capture))
            .await
            .map_err(store_failure)?;
        if let Handled::SetAside { attempts, error } = &handled {
            self.dead_letters
                .record(document, *attempts, error)
                .map_err(store_failure)?;
            tracing::error!(site = %document.site, doc = %document.id, url = %document.url, attempts, %error, "document set aside as a dead letter (`leakwatch sites` lists it); going on");
        }
        Ok(handled)
    }

    /// Commits the index, then acknowledges the documents it now holds.
    fn commit_and_acknowledge(
        &mut self,
        crawler: &Crawler,
        waiting: &mut Unacknowledged,
        report: &mut impl FnMut(Consumed),
    ) -> anyhow::Result<()> {
        self.commit()?;
        // Pages of no alert kept as evidence become durable here, before the
        // crawler's outbox lets go of them.
        self.evidence.flush()?;
        crawler
            .acknowledge(&waiting.receipts)
            .context("cannot acknowledge documents in the frontier")?;
        waiting.receipts.clear();
        waiting.last_commit = Instant::now();
        report(Consumed::Committed {
            index_docs: self.index.num_docs(),
            evidence_bytes: self.evidence.store.stored_bytes()?,
        });
        Ok(())
    }

    /// Matches, keeps the page as evidence, records and indexes one
    /// document (one try). The evidence is durable before an alert is
    /// recorded, so no alert lacks it.
    fn process(
        &mut self,
        doc: &Document,
        capture: Option<&PageCapture>,
    ) -> anyhow::Result<Vec<RaisedAlert>> {
        // Tests of the dead-letter path make one document fail here; release
        // builds have no such hook.
        #[cfg(debug_assertions)]
        if std::env::var_os("LEAKWATCH_TEST_FAIL_DOCUMENT").is_some_and(|id| id == doc.id.as_str())
        {
            anyhow::bail!(
                "cannot index {}: failure injected by LEAKWATCH_TEST_FAIL_DOCUMENT",
                doc.id
            );
        }
        let entities = document_entities(doc);
        let alerts = with_entities(self.matcher.match_document(&match_view(doc)), &entities);
        match capture {
            Some(capture) => {
                self.evidence.keep(doc, capture, !alerts.is_empty())?;
            }
            None if !alerts.is_empty() => {
                tracing::warn!(doc = %doc.id, url = %doc.url, "an alerting document came without its page (queued by an older version): its alert has no evidence");
            }
            None => {}
        }
        let raised = self.record(&alerts, doc.title.as_deref(), doc.body.as_deref())?;
        self.index
            .upsert(&index_document(doc, &alerts, entities))
            .with_context(|| format!("cannot index {}", doc.id))?;
        self.documents += 1;
        Ok(raised)
    }

    fn record(
        &mut self,
        alerts: &[Alert],
        title: Option<&str>,
        body: Option<&str>,
    ) -> anyhow::Result<Vec<RaisedAlert>> {
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let fingerprint = simhash(&format!("{}\n{}", title.unwrap_or(""), body.unwrap_or("")));
        let now = chrono::Utc::now().timestamp();
        let mut raised = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let routes: Vec<(String, i64)> = self
                .sinks
                .iter()
                .filter(|s| s.accepts(&alert.customer))
                .map(|s| (s.name.clone(), delivery::first_attempt(s, alert, now)))
                .collect();
            let recorded = self
                .store
                .record(alert, fingerprint, &routes)
                .with_context(|| format!("cannot record an alert on {}", alert.doc_id))?;
            raised.push(RaisedAlert {
                recorded,
                alert: alert.clone(),
            });
        }
        Ok(raised)
    }

    /// Makes everything processed so far durable and searchable.
    fn commit(&mut self) -> anyhow::Result<()> {
        self.index.commit().context("cannot commit the index")
    }

    /// Runs the current matcher over every indexed document (posted or
    /// fetched since `since`, if given) and records the alerts of the assets
    /// in `assets` (`customer/asset`); returns them.
    pub(crate) fn retro_hunt(
        &mut self,
        assets: &HashSet<String>,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> anyhow::Result<Vec<RaisedAlert>> {
        // One snapshot, read lazily: only documents with a hit are kept.
        let request = SearchRequest {
            since,
            ..Default::default()
        };
        let mut hits: Vec<(IndexDocument, Vec<Alert>)> = Vec::new();
        for doc in self
            .index
            .scan(&request)
            .context("retro-hunt: reading the index")?
        {
            let doc = doc.context("retro-hunt: reading a document")?;
            let view = crate::convert::indexed_match_view(&doc);
            let alerts: Vec<Alert> = self
                .matcher
                .match_document(&view)
                .into_iter()
                .filter(|a| assets.contains(&format!("{}/{}", a.customer, a.asset)))
                .map(|mut a| {
                    a.entities = doc.entities.clone();
                    a
                })
                .collect();
            if !alerts.is_empty() {
                hits.push((doc, alerts));
            }
        }
        let mut raised = Vec::new();
        let mut updated: Vec<IndexDocument> = Vec::new();
        for (mut doc, alerts) in hits {
            raised.extend(self.record(&alerts, doc.title.as_deref(), doc.body.as_deref())?);
            for a in &alerts {
                let key = format!("{}/{}", a.customer, a.asset);
                if !doc.alerts.contains(&key) {
                    doc.alerts.push(key);
                }
                if !doc.customers.contains(&a.customer) {
                    doc.customers.push(a.customer.clone());
                }
            }
            updated.push(doc);
        }
        for doc in &updated {
            self.index.upsert(doc)?;
        }
        if !updated.is_empty() {
            self.commit()?;
        }
        Ok(raised)
    }
}

/// The next reload; none ever when there is nothing to reload from.
async fn next_reload(reloads: &mut Option<mpsc::Receiver<Reload>>) -> Option<Reload> {
    match reloads {
        Some(reloads) => reloads.recv().await,
        None => std::future::pending().await,
    }
}

/// Says why the consume loop stops: the index or the state store cannot be
/// written, which no retry of one document can mend.
fn store_failure(error: anyhow::Error) -> anyhow::Error {
    error.context(
        "stopping: the index or the state store cannot be written (disk full? I/O error?); \
         documents not yet acknowledged are processed again after a restart",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::config::{EvidenceConfig, EvidenceMode};

    /// A page of a GBK market: `rows` listings (about 200 bytes each), one
    /// of them naming the watched bank when `alerting`.
    fn market_page(n: usize, rows: usize, alerting: bool) -> (Document, PageCapture) {
        let mut html = String::from("<html><head><meta charset=\"GBK\"></head><body><table>");
        for r in 0..rows {
            html.push_str(&format!(
                "<tr><td><a href=\"viewtopic.php?t={n}{r}\">出售 二手 手机 {n}-{r} 号</a></td><td>卖家{r}</td><td>{r}.5 USDT</td><td>2026-11-{:02}</td></tr>",
                1 + r % 28
            ));
        }
        let title = if alerting {
            format!("出售 三菱日联银行 网银账号 #{n}")
        } else {
            format!("出售 二手 手机 #{n}")
        };
        html.push_str(&format!("</table><h1>{title}</h1></body></html>"));
        let raw = encoding_rs::GBK.encode(&html).0.into_owned();
        let doc: Document = serde_json::from_value(serde_json::json!({
            "id": format!("bench:{n}"), "site": "bench", "url": format!("http://m.onion/t/{n}"),
            "kind": "listing", "title": title, "body": html, "price": "1 BTC",
            "fetched_at": "2026-12-01T00:00:00Z"
        }))
        .expect("a document");
        let capture = PageCapture {
            requested_url: doc.url.clone(),
            final_url: doc.url.clone(),
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=GBK".into())],
            fetched_at: chrono::Utc::now(),
            transport: "direct".into(),
            identity: None,
            encoding: "GBK".into(),
            body: Arc::from(raw),
        };
        (doc, capture)
    }

    /// A fresh pipeline in `dir`: one watched bank; evidence kept as `mode`
    /// says, or never given a page (`None`: the pipeline without the archive).
    fn bench_pipeline(dir: &Path, mode: Option<EvidenceMode>) -> Pipeline {
        let set = watchlists::WatchlistSet::from_toml_str(
            Path::new("mufg.toml"),
            "customer = \"mufg-group\"\n[[assets]]\nid = \"mufg\"\nname = \"三菱UFJ銀行\"\nkind = \"bank\"\nterms = [\"三菱日联银行\"]\n",
        )
        .expect("watchlist");
        let pipeline = Pipeline::open(dir, Matcher::new(&set)).expect("pipeline");
        match mode {
            Some(mode) => pipeline.with_evidence(
                &EvidenceConfig {
                    mode,
                    ..EvidenceConfig::default()
                },
                None,
            ),
            None => pipeline,
        }
    }

    fn median(mut t: Vec<f64>) -> f64 {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }

    /// The evidence archive's cost per page: each page goes through three
    /// pipelines in turn (so a busy neighbour weighs on all three alike) —
    /// without the archive, with `evidence = "alerts"` (one page in ten
    /// alerts and is written durably before its alert; the rest cost one
    /// lookup) and with `"all"` (every page written; those of no alert made
    /// durable at the commit, as the consume loop does every
    /// `commit_every_docs`, here every 100 pages). Prints the medians, their
    /// ratios, and the median of the per-page differences.
    /// Run: `cargo test --bin leakwatch evidence_write_cost -- --ignored --nocapture`
    /// (`BENCH_PAGES`, `BENCH_ROWS` to vary; `--release` for our code optimised too).
    #[test]
    #[ignore = "a benchmark; run with --ignored --nocapture"]
    fn evidence_write_cost() {
        let n: usize = std::env::var("BENCH_PAGES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(600);
        let rows: usize = std::env::var("BENCH_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(150);
        let pages: Vec<_> = (0..n).map(|i| market_page(i, rows, i % 10 == 0)).collect();
        let mean_bytes = pages.iter().map(|(_, c)| c.body.len()).sum::<usize>() / n;
        let modes = [None, Some(EvidenceMode::Alerts), Some(EvidenceMode::All)];
        let dirs: Vec<_> = modes
            .iter()
            .map(|_| tempfile::tempdir().expect("tmp"))
            .collect();
        let mut pipelines: Vec<Pipeline> = modes
            .iter()
            .zip(&dirs)
            .map(|(m, d)| bench_pipeline(d.path(), *m))
            .collect();
        // ms per page, per pipeline; and per commit (with its flush).
        let mut times: [Vec<f64>; 3] = Default::default();
        let mut commits: [Vec<f64>; 3] = Default::default();
        for (i, (doc, capture)) in pages.iter().enumerate() {
            let alerting = doc.title.as_deref().is_some_and(|t| t.contains("三菱"));
            for (k, pipeline) in pipelines.iter_mut().enumerate() {
                let capture = modes[k].map(|_| capture);
                let started = Instant::now();
                let raised = pipeline.process(doc, capture).expect("processed");
                times[k].push(started.elapsed().as_secs_f64() * 1e3);
                assert_eq!(raised.len(), usize::from(alerting), "page {i}");
                if i % 100 == 99 {
                    let started = Instant::now();
                    pipeline.commit().expect("commit");
                    pipeline.evidence.flush().expect("flush");
                    commits[k].push(started.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        for p in &pipelines {
            p.evidence.flush().expect("flush");
        }
        let kept: Vec<u64> = pipelines
            .iter()
            .map(|p| p.evidence().stored_bytes().expect("size"))
            .collect();
        assert_eq!(kept[0], 0, "no page given, none kept");
        assert!(kept[1] > 0 && kept[2] > kept[1], "{kept:?}");
        let alerting = |t: &[f64]| -> Vec<f64> { t.iter().step_by(10).copied().collect() };
        let added = |k: usize, pick: &dyn Fn(&[f64]) -> Vec<f64>| -> f64 {
            let diffs: Vec<f64> = pick(&times[k])
                .iter()
                .zip(pick(&times[0]))
                .map(|(with, without)| with - without)
                .collect();
            median(diffs)
        };
        let all_pages = |t: &[f64]| t.to_vec();
        let base = median(times[0].clone());
        println!(
            "evidence archive, {n} pages of {mean_bytes} bytes (GBK), one in ten alerting; per page, median:"
        );
        println!("  without the archive     {base:8.3} ms");
        for (k, name) in [(1, "evidence = \"alerts\""), (2, "evidence = \"all\"   ")] {
            let m = median(times[k].clone());
            println!(
                "  {name}    {m:8.3} ms   ratio {:.3}   added {:+.3} ms (median of per-page differences)",
                m / base,
                added(k, &all_pages)
            );
        }
        let (ab, aa) = (median(alerting(&times[0])), median(alerting(&times[1])));
        println!(
            "  its alerting pages alone {aa:7.3} ms against {ab:.3} ms: ratio {:.3}, added {:+.3} ms (the fsyncs before the alert)",
            aa / ab,
            added(1, &alerting)
        );
        let c: Vec<f64> = commits.iter().map(|c| median(c.clone())).collect();
        println!(
            "  commit every 100 pages   {:.1} ms without, {:.1} ms with \"alerts\", {:.1} ms with \"all\" ({:+.3} ms a page)",
            c[0],
            c[1],
            c[2],
            (c[2] - c[0]) / 100.0
        );
    }

    #[test]
    fn commits_after_so_many_documents_or_so_long_with_any_waiting() {
        let policy = CommitPolicy {
            every_docs: 3,
            every: Duration::from_secs(10),
        };
        let secs = Duration::from_secs;
        assert!(!policy.is_due(0, secs(3600)), "nothing waits");
        assert!(!policy.is_due(2, secs(9)));
        assert!(policy.is_due(3, secs(0)));
        assert!(policy.is_due(1, secs(10)));
    }
}
