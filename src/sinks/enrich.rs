//! What a push sink (TAXII, MISP) knows of a queued alert beyond the alert
//! record: the listing from the index (title, seller, price, addresses) and
//! the asset from the watchlists (kind, domains). Reads only; a listing not
//! yet committed to the index, or watchlists that do not load, leave the
//! export to what the alert itself says.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indexer::DocumentIndex;
use watchlists::WatchlistSet;

use crate::alert_store::{Delivery, StoredAlert};
use crate::export::ExportAlert;

/// How long loaded watchlists are used before they are read again (a
/// reload of the service's own set is not signalled to the sinks).
const WATCHLISTS_TTL: Duration = Duration::from_secs(30);

/// The index and watchlists of one data folder, opened on first use.
pub(crate) struct Enricher {
    index_dir: PathBuf,
    watchlists: PathBuf,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    index: Option<DocumentIndex>,
    set: Option<WatchlistSet>,
    loaded_at: Option<Instant>,
}

impl Enricher {
    /// Reads listings from the index in `index_dir` and assets from the
    /// watchlist file or folder `watchlists`.
    pub(crate) fn new(index_dir: PathBuf, watchlists: PathBuf) -> Enricher {
        Enricher {
            index_dir,
            watchlists,
            state: Mutex::default(),
        }
    }

    /// The delivery's alert as an export sees it at its first recording:
    /// `last_seen` is `first_seen` and there are no reposts yet, so the
    /// objects pushed for it are one version, whenever the push happens.
    pub(crate) fn export_alert(&self, d: &Delivery) -> Result<ExportAlert, String> {
        let stored = StoredAlert {
            id: d.alert_id,
            status: "new".to_owned(),
            first_seen: d.first_seen.clone(),
            last_seen: d.first_seen.clone(),
            alert: d.alert.clone(),
            also_seen_at: Vec::new(),
            delivered_to: Vec::new(),
            history: Vec::new(),
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let document = self.document(&mut state, &d.alert.doc_id);
        self.refresh_watchlists(&mut state);
        let asset = state.set.as_ref().and_then(|set| {
            set.watchlists()
                .iter()
                .filter(|w| w.customer() == d.alert.customer)
                .flat_map(|w| w.assets())
                .find(|a| a.id() == d.alert.asset)
        });
        ExportAlert::new(stored, document.as_ref(), asset).map_err(|e| format!("{e:#}"))
    }

    fn document(&self, state: &mut State, doc_id: &str) -> Option<indexer::IndexDocument> {
        let dir = &self.index_dir;
        match &mut state.index {
            Some(index) => {
                if let Err(e) = index.reload() {
                    tracing::warn!(index = %dir.display(), error = %e, "cannot refresh the index reader for a push");
                }
            }
            None => match DocumentIndex::open(dir) {
                Ok(index) => state.index = Some(index),
                Err(e) => {
                    tracing::warn!(index = %dir.display(), error = %e, "cannot open the index for a push: listing details left out");
                    return None;
                }
            },
        }
        match state.index.as_ref().map(|i| i.get(doc_id)) {
            Some(Ok(doc)) => doc,
            Some(Err(e)) => {
                tracing::warn!(doc = %doc_id, error = %e, "cannot read the alerted document");
                None
            }
            None => None,
        }
    }

    fn refresh_watchlists(&self, state: &mut State) {
        let path = &self.watchlists;
        if state
            .loaded_at
            .is_some_and(|at| at.elapsed() < WATCHLISTS_TTL)
        {
            return;
        }
        state.loaded_at = Some(Instant::now());
        match WatchlistSet::load(path) {
            Ok(set) => state.set = Some(set),
            Err(e) => {
                tracing::warn!(watchlists = %path.display(), error = %e, "watchlists not loaded for a push; keeping the previous ones")
            }
        }
    }
}
