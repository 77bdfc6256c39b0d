//! The path of one document after extraction: match the watchlists, record
//! alerts in the alert log, write the document (with its alerts) to the index.

use std::path::Path;

use anyhow::Context;
use crawler::Document;
use indexer::DocumentIndex;
use watchlists::{Alert, Matcher};

use crate::alert_store::AlertStore;
use crate::convert::{index_document, match_view};
use crate::paths;

/// Documents between index commits.
const COMMIT_EVERY: usize = 500;

/// An alert as the pipeline saw it.
pub struct RaisedAlert {
    pub id: i64,
    pub is_new: bool,
    pub alert: Alert,
}

pub struct Pipeline {
    index: DocumentIndex,
    matcher: Matcher,
    store: AlertStore,
    uncommitted: usize,
    pub documents: usize,
}

impl Pipeline {
    /// Opens the index and the state store in `data_dir`.
    pub fn open(data_dir: &Path, matcher: Matcher) -> anyhow::Result<Pipeline> {
        let index_dir = paths::index_dir(data_dir);
        let index = DocumentIndex::open_or_create(&index_dir)
            .with_context(|| format!("cannot open the index in {}", index_dir.display()))?;
        let store = AlertStore::open(&paths::state_db(data_dir))?;
        Ok(Pipeline {
            index,
            matcher,
            store,
            uncommitted: 0,
            documents: 0,
        })
    }

    /// Matches, records and indexes one document.
    pub fn process(&mut self, doc: &Document) -> anyhow::Result<Vec<RaisedAlert>> {
        let alerts = self.matcher.match_document(&match_view(doc));
        let mut raised = Vec::with_capacity(alerts.len());
        for alert in &alerts {
            let (id, is_new) = self
                .store
                .record(alert)
                .with_context(|| format!("cannot record an alert on {}", doc.id))?;
            raised.push(RaisedAlert {
                id,
                is_new,
                alert: alert.clone(),
            });
        }
        self.index
            .upsert(&index_document(doc, &alerts))
            .with_context(|| format!("cannot index {}", doc.id))?;
        self.documents += 1;
        self.uncommitted += 1;
        if self.uncommitted >= COMMIT_EVERY {
            self.commit()?;
        }
        Ok(raised)
    }

    /// Makes everything processed so far durable and searchable.
    pub fn commit(&mut self) -> anyhow::Result<()> {
        self.index.commit().context("cannot commit the index")?;
        self.uncommitted = 0;
        Ok(())
    }
}
