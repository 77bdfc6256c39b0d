//! The path of one document after extraction: match the watchlists, record
//! alerts (and queue their deliveries) in the state store, write the
//! document with its alerts to the index. Also re-runs changed watchlists
//! over the documents already indexed (retro-hunt).

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use crawler::Document;
use indexer::{DocumentIndex, IndexDocument, SearchRequest, WriterMemory};
use watchlists::{Alert, Matcher};

use crate::alert_store::{AlertStore, Recorded};
use crate::config::SinkConfig;
use crate::convert::{index_document, match_view};
use crate::neardup::simhash;
use crate::{outbox, paths};

/// An alert as the pipeline saw it.
pub struct RaisedAlert {
    pub recorded: Recorded,
    pub alert: Alert,
}

impl RaisedAlert {
    pub fn is_new(&self) -> bool {
        matches!(self.recorded, Recorded::New(_))
    }
}

/// When the index is committed.
#[derive(Debug, Clone, Copy)]
pub struct CommitPolicy {
    pub every_docs: usize,
    pub every: Duration,
}

impl Default for CommitPolicy {
    fn default() -> Self {
        CommitPolicy {
            every_docs: 500,
            every: Duration::from_secs(30),
        }
    }
}

pub struct Pipeline {
    index: DocumentIndex,
    matcher: Matcher,
    store: AlertStore,
    sinks: Vec<SinkConfig>,
    policy: CommitPolicy,
    uncommitted: usize,
    last_commit: Instant,
    pub documents: usize,
}

impl Pipeline {
    /// Opens the index and the state store in `data_dir`.
    pub fn open(data_dir: &Path, matcher: Matcher) -> anyhow::Result<Pipeline> {
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
        // bulk loads (96 MB over every core, segment writers rebuilt at
        // each commit) held several times the crawl's own memory.
        index.set_writer_memory(WriterMemory::STREAM);
        let store = AlertStore::open(&paths::state_db(data_dir))?;
        Ok(Pipeline {
            index,
            matcher,
            store,
            sinks: Vec::new(),
            policy: CommitPolicy::default(),
            uncommitted: 0,
            last_commit: Instant::now(),
            documents: 0,
        })
    }

    /// Queues deliveries of new alerts to these sinks.
    pub fn with_sinks(mut self, sinks: Vec<SinkConfig>, policy: CommitPolicy) -> Pipeline {
        self.sinks = sinks;
        self.policy = policy;
        self
    }

    /// Replaces the watchlists' matcher (after a reload).
    pub fn set_matcher(&mut self, matcher: Matcher) {
        self.matcher = matcher;
    }

    /// Matches, records and indexes one document.
    pub fn process(&mut self, doc: &Document) -> anyhow::Result<Vec<RaisedAlert>> {
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
        let raised = self.record(&alerts, doc.title.as_deref(), doc.body.as_deref())?;
        self.index
            .upsert(&index_document(doc, &alerts))
            .with_context(|| format!("cannot index {}", doc.id))?;
        self.documents += 1;
        self.uncommitted += 1;
        self.commit_if_due()?;
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
                .map(|s| (s.name.clone(), outbox::first_attempt(s, alert, now)))
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

    /// Commits when the policy says so (documents or time since the last commit).
    pub fn commit_if_due(&mut self) -> anyhow::Result<()> {
        if self.uncommitted >= self.policy.every_docs
            || (self.uncommitted > 0 && self.last_commit.elapsed() >= self.policy.every)
        {
            self.commit()?;
        }
        Ok(())
    }

    /// Makes everything processed so far durable and searchable.
    pub fn commit(&mut self) -> anyhow::Result<()> {
        self.index.commit().context("cannot commit the index")?;
        self.uncommitted = 0;
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Runs the current matcher over every indexed document (posted or
    /// fetched since `since`, if given) and records the alerts of the assets
    /// in `assets` (`customer/asset`); returns them.
    pub fn retro_hunt(
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

    pub fn index(&self) -> &DocumentIndex {
        &self.index
    }
}
