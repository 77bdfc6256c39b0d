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
use crate::convert::{index_document, match_view};
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
        let alerts = self.matcher.match_document(&match_view(doc));
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
            .upsert(&index_document(doc, &alerts))
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

    /// Per-page times of `pages` through a fresh pipeline (match, keep
    /// evidence as `mode` says or not at all, record, index; no commit).
    fn timed(
        pages: &[(Document, PageCapture)],
        mode: Option<EvidenceMode>,
    ) -> (Vec<Duration>, Vec<Duration>) {
        let dir = tempfile::tempdir().expect("tmp");
        let set = watchlists::WatchlistSet::from_toml_str(
            Path::new("mufg.toml"),
            "customer = \"mufg-group\"\n[[assets]]\nid = \"mufg\"\nname = \"三菱UFJ銀行\"\nkind = \"bank\"\nterms = [\"三菱日联银行\"]\n",
        )
        .expect("watchlist");
        let mut pipeline = Pipeline::open(dir.path(), Matcher::new(&set)).expect("pipeline");
        if let Some(mode) = mode {
            pipeline = pipeline.with_evidence(
                &EvidenceConfig {
                    mode,
                    ..EvidenceConfig::default()
                },
                None,
            );
        }
        let mut times = Vec::with_capacity(pages.len());
        let mut flushes = Vec::new();
        for (i, (doc, capture)) in pages.iter().enumerate() {
            let capture = mode.map(|_| capture);
            let started = Instant::now();
            let raised = pipeline.process(doc, capture).expect("processed");
            times.push(started.elapsed());
            let alerting = doc.title.as_deref().is_some_and(|t| t.contains("三菱"));
            assert_eq!(raised.len(), usize::from(alerting), "page {i}");
            if i % 100 == 99 {
                // As the consume loop does every `commit_every_docs`: untimed
                // here, its cost is printed below.
                let started = Instant::now();
                pipeline.commit().expect("commit");
                pipeline.evidence.flush().expect("flush");
                flushes.push(started.elapsed());
            }
        }
        pipeline.evidence.flush().expect("flush");
        if mode == Some(EvidenceMode::All) {
            let kept = pipeline.evidence().stored_bytes().expect("size");
            assert!(kept > 0, "pages were archived");
        }
        (times, flushes)
    }

    fn median(mut t: Vec<Duration>) -> Duration {
        t.sort();
        t[t.len() / 2]
    }

    /// The evidence archive's cost per page: the same pages through the
    /// same pipeline without the archive, with `evidence = "alerts"` (one
    /// page in ten alerts, the rest cost one lookup) and with `"all"` (every
    /// page written: zstd, fsync'd file and folder, a synchronous row).
    /// Run: `cargo test --release --bin leakwatch evidence_write_cost -- --ignored --nocapture`
    /// (`BENCH_PAGES`, `BENCH_ROWS` to vary).
    #[test]
    #[ignore = "a benchmark; run with --ignored --nocapture"]
    fn evidence_write_cost() {
        // A multiple of 20: each half holds whole tens, one alerting page each.
        let n: usize = std::env::var("BENCH_PAGES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(400)
            / 20
            * 20;
        let rows: usize = std::env::var("BENCH_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(150);
        let pages: Vec<_> = (0..n).map(|i| market_page(i, rows, i % 10 == 0)).collect();
        let mean_bytes = pages.iter().map(|(_, c)| c.body.len()).sum::<usize>() / n;
        // Alternate the runs so a busy neighbour weighs on each alike.
        let (mut base, mut alerts, mut all) = (Vec::new(), Vec::new(), Vec::new());
        let (mut base_commits, mut all_commits) = (Vec::new(), Vec::new());
        for round in 0..2 {
            let half = &pages[round * n / 2..(round + 1) * n / 2];
            let (t, c) = timed(half, None);
            base.extend(t);
            base_commits.extend(c);
            alerts.extend(timed(half, Some(EvidenceMode::Alerts)).0);
            let (t, c) = timed(half, Some(EvidenceMode::All));
            all.extend(t);
            all_commits.extend(c);
        }
        let of_alerts = |times: &[Duration]| -> Vec<Duration> {
            times
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 10 == 0)
                .map(|(_, t)| *t)
                .collect()
        };
        let (alerting, alerting_base) = (of_alerts(&alerts), of_alerts(&base));
        let (b, a, l) = (median(base), median(alerts), median(all));
        let (ab, aa) = (median(alerting_base), median(alerting));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!("evidence archive, {n} pages of {mean_bytes} bytes (GBK), one in ten alerting; median per page:");
        println!("  without the archive       {:8.3} ms", ms(b));
        println!(
            "  evidence = \"alerts\"       {:8.3} ms  ratio {:.3}  added {:+.3} ms",
            ms(a),
            ms(a) / ms(b),
            ms(a) - ms(b)
        );
        println!("    its alerting pages      {:8.3} ms  ratio {:.3}  added {:+.3} ms (vs the same pages without)", ms(aa), ms(aa) / ms(ab), ms(aa) - ms(ab));
        println!(
            "  evidence = \"all\"          {:8.3} ms  ratio {:.3}  added {:+.3} ms",
            ms(l),
            ms(l) / ms(b),
            ms(l) - ms(b)
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
