//! Reloads while the service runs: the watchlists when their folder changes
//! (watched, and polled as well) or on SIGHUP, the site profiles on SIGHUP.
//! A file with errors keeps the previous version. Hands new watchlists to
//! the consume loop as a [`Reload`]; never touches the index or the alerts.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use crawler::SiteProfile;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use watchlists::{Matcher, WatchlistSet};

use crate::config::{load_profiles, Config};
use crate::metrics::Metrics;
use crate::pipeline::Reload;
use crate::watched_assets::{self, Fingerprints};

/// Loads the watchlists folder (or file), every error named.
pub(crate) fn load_watchlists(path: &Path) -> anyhow::Result<WatchlistSet> {
    WatchlistSet::load(path)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{}: watchlists have errors", path.display()))
}

/// What the reload task needs and keeps between reloads.
pub(crate) struct Reloader {
    watchlists: PathBuf,
    sites_dir: PathBuf,
    poll: Duration,
    /// The profiles the scheduler crawls; replaced on a good reload.
    profiles: Arc<RwLock<Vec<SiteProfile>>>,
    /// Where the watched assets' fingerprints are kept, and the last ones.
    known_path: PathBuf,
    fingerprints: Fingerprints,
    metrics: Arc<Metrics>,
}

impl Reloader {
    /// A reloader for `config`'s folders, starting from the watched assets'
    /// `fingerprints` (as recorded at `known_path`).
    pub(crate) fn new(
        config: &Config,
        profiles: Arc<RwLock<Vec<SiteProfile>>>,
        known_path: PathBuf,
        fingerprints: Fingerprints,
        metrics: Arc<Metrics>,
    ) -> Reloader {
        Reloader {
            watchlists: config.watchlists.clone(),
            sites_dir: config.sites_dir.clone(),
            poll: config.schedule.reload_poll,
            profiles,
            known_path,
            fingerprints,
            metrics,
        }
    }

    /// Runs until shutdown, or until the consume loop is gone.
    pub(crate) fn spawn(
        self,
        reloads: mpsc::Sender<Reload>,
        shutdown: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(self.run(reloads, shutdown))
    }

    async fn run(mut self, reloads: mpsc::Sender<Reload>, mut shutdown: watch::Receiver<bool>) {
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        // The folder is watched (inotify) for changes, and polled as well:
        // watches miss changes on some network file systems.
        let (touched_tx, mut touched) = mpsc::channel::<()>(1);
        let _watch = watch_folder(&self.watchlists, touched_tx);
        let mut seen = folder_state(&self.watchlists);
        loop {
            let forced = tokio::select! {
                _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => true,
                Some(()) = touched.recv() => {
                    // Let an editor or `cp` finish writing first.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    while touched.try_recv().is_ok() {}
                    false
                }
                _ = tokio::time::sleep(self.poll) => false,
                _ = shutdown.changed() => return,
            };
            let now = folder_state(&self.watchlists);
            if !forced && now == seen {
                continue;
            }
            seen = now;
            if forced {
                self.reload_profiles();
            }
            if let Some(reload) = self.reload_watchlists() {
                if reloads.send(reload).await.is_err() {
                    return;
                }
            }
        }
    }

    /// Replaces the scheduler's site profiles, unless the folder has errors
    /// or no profile.
    fn reload_profiles(&self) {
        match load_profiles(&self.sites_dir) {
            Ok(new) if !new.is_empty() => {
                tracing::info!(sites = new.len(), "site profiles reloaded");
                *self
                    .profiles
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = new;
            }
            Ok(_) => {
                tracing::error!(dir = %self.sites_dir.display(), "no site profiles after reload; keeping the previous ones")
            }
            Err(e) => {
                self.metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %format!("{e:#}"), "site profiles not reloaded; keeping the previous ones");
            }
        }
    }

    /// The new watchlists and what changed in them (recorded as watched
    /// now), or `None` when they have errors.
    fn reload_watchlists(&mut self) -> Option<Reload> {
        match load_watchlists(&self.watchlists) {
            Ok(set) => {
                let new = watched_assets::fingerprints(&set);
                let changed: HashSet<String> =
                    watched_assets::changed(&self.fingerprints, &new, &set);
                tracing::info!(
                    assets = set.asset_count(),
                    changed = changed.len(),
                    "watchlists reloaded"
                );
                self.fingerprints = new;
                watched_assets::write(&self.known_path, &self.fingerprints);
                self.metrics.reloads.fetch_add(1, Ordering::Relaxed);
                Some(Reload {
                    matcher: Matcher::new(&set),
                    changed,
                })
            }
            Err(e) => {
                self.metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %format!("{e:#}"), "watchlists not reloaded; keeping the previous version");
                None
            }
        }
    }
}

/// Watches `dir` for changes (inotify), telling `touched`; `None` (with a
/// warning) where the platform or file system cannot, which leaves the poll.
fn watch_folder(dir: &Path, touched: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            // Full means a reload is already pending.
            let _ = touched.try_send(());
        }
    })
    .and_then(|mut w| {
        w.watch(dir, notify::RecursiveMode::NonRecursive)
            .map(|()| w)
    });
    match watcher {
        Ok(w) => Some(w),
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "cannot watch the watchlists folder; polling it instead");
            None
        }
    }
}

/// Names, sizes and modification times of the folder's TOML files.
fn folder_state(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), m.len(), m.modified().ok()))
        })
        .collect();
    out.sort();
    out
}
