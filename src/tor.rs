//! Turns the configured Tor mode into the crawler's transport, bootstrapping
//! the embedded arti client (with a progress bar) when that is the mode.

use std::path::Path;

use anyhow::Context;
use crawler::Transport;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::TorMode;

/// A ready transport; keeps the embedded client alive while it is held.
pub(crate) struct TorSession {
    pub transport: Transport,
    #[cfg(feature = "embedded-tor")]
    _embedded: Option<crawler::EmbeddedTor>,
}

/// The transport's name in evidence records when the crawler's own name
/// for it would mislead: the embedded client is reached through a SOCKS
/// bridge on 127.0.0.1, but the page came over Tor.
pub(crate) fn transport_name(mode: &TorMode) -> Option<String> {
    match mode {
        TorMode::Embedded { .. } => Some("embedded-tor".to_owned()),
        TorMode::Off | TorMode::Socks(_) => None,
    }
}

/// Prepares `mode`; the embedded client keeps its state in `data_dir/tor`.
pub(crate) async fn connect(
    mode: &TorMode,
    data_dir: &Path,
    progress_bar: bool,
) -> anyhow::Result<TorSession> {
    match mode {
        TorMode::Off => Ok(session(Transport::Direct)),
        TorMode::Socks(addr) => Ok(session(Transport::Socks(*addr))),
        #[cfg(feature = "embedded-tor")]
        TorMode::Embedded {
            test_network,
            bootstrap_timeout,
        } => {
            let mut config = crawler::EmbeddedTorConfig::new(&data_dir.join("tor"));
            config.test_network = test_network.clone();
            config.bootstrap_timeout = *bootstrap_timeout;
            let bar = if progress_bar {
                ProgressBar::new(100)
            } else {
                ProgressBar::hidden()
            };
            bar.set_style(
                ProgressStyle::with_template("Tor {bar:30} {pos:>3}% {msg}")
                    .expect("progress template is valid"),
            );
            let tor = crawler::EmbeddedTor::start(&config, |fraction, status| {
                bar.set_position((fraction * 100.0) as u64);
                bar.set_message(status.to_owned());
            })
            .await
            .context("cannot start the embedded Tor client")?;
            bar.finish_and_clear();
            Ok(TorSession {
                transport: Transport::Socks(tor.socks_addr()),
                _embedded: Some(tor),
            })
        }
        #[cfg(not(feature = "embedded-tor"))]
        TorMode::Embedded { .. } => anyhow::bail!(
            "this leakwatch was built without the embedded Tor client (feature embedded-tor); set tor = {{ socks = \"127.0.0.1:9050\" }} with a Tor daemon, or rebuild with default features"
        ),
    }
}

fn session(transport: Transport) -> TorSession {
    TorSession {
        transport,
        #[cfg(feature = "embedded-tor")]
        _embedded: None,
    }
}
