//! The embedded Tor client: arti in-process, reached through a SOCKS5
//! bridge on 127.0.0.1 so every transport keeps reqwest (cookies,
//! redirects, decompression, timeouts) and its `socks5h` proxy support.
//!
//! The bridge speaks only to arti: it never resolves or connects anything
//! itself, so in this mode nothing leaves the machine except through Tor.
//! Each SOCKS username gets its own arti `IsolationToken`, so streams of
//! different sites (the crawler uses the site name as username) never share
//! a circuit, and a site asks for fresh circuits by changing its username.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arti_client::config::{dir, BoolOrAuto, CfgPath};
use arti_client::{IsolationToken, StreamPrefs, TorClient, TorClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tor_llcrypto::pk::{ed25519::Ed25519Identity, rsa::RsaIdentity};
use tor_rtcompat::PreferredRuntime;

/// Why the embedded Tor client could not start.
#[derive(Debug, thiserror::Error)]
pub enum TorError {
    /// arti rejected the configuration built from [`EmbeddedTorConfig`];
    /// holds arti's message.
    #[error("embedded Tor: configuration: {0}")]
    Config(String),
    /// The test-network file could not be read or has a bad line.
    #[error("embedded Tor: {path}: {message}")]
    TestNetwork {
        /// The test-network file ([`EmbeddedTorConfig::test_network`]).
        path: PathBuf,
        /// What is wrong, with the line number when a line is bad.
        message: String,
    },
    /// arti could not be created or failed to bootstrap; holds its message
    /// (with the last bootstrap status when bootstrapping failed).
    #[error("embedded Tor: bootstrap failed: {0}")]
    Bootstrap(String),
    /// Bootstrapping did not finish within
    /// [`EmbeddedTorConfig::bootstrap_timeout`].
    #[error("embedded Tor: no bootstrap after {secs} s (last status: {status}); check the network or use an external tor with tor = {{ socks = \"127.0.0.1:9050\" }}")]
    BootstrapTimeout {
        /// The timeout, in whole seconds.
        secs: u64,
        /// arti's last bootstrap status line.
        status: String,
    },
    /// The local SOCKS bridge could not listen on 127.0.0.1.
    #[error("embedded Tor: cannot open the local SOCKS bridge: {0}")]
    Bridge(std::io::Error),
}

/// Settings of the embedded client.
#[derive(Debug, Clone)]
pub struct EmbeddedTorConfig {
    /// arti's state and cache live here (e.g. DATA_DIR/tor).
    pub state_dir: PathBuf,
    /// A private test network: a file of `auth V3IDENT IP:DIRPORT`,
    /// `fallback RSA-FP ED25519-ID IP:ORPORT` and `param NAME VALUE` lines
    /// (written by tests/tornet/setup.sh). `None` means the real Tor network.
    pub test_network: Option<PathBuf>,
    /// How long [`EmbeddedTor::start`] waits for arti to bootstrap before
    /// failing with [`TorError::BootstrapTimeout`] (default 180 s).
    pub bootstrap_timeout: Duration,
    /// How long one stream through the bridge may take to connect through
    /// Tor, and arti's own stream connect timeout (default 90 s); past it
    /// the SOCKS client gets a TTL-expired reply.
    pub connect_timeout: Duration,
}

impl EmbeddedTorConfig {
    /// Settings for the real Tor network with arti's state under
    /// `state_dir`, a 180 s bootstrap timeout and a 90 s connect timeout.
    pub fn new(state_dir: &Path) -> EmbeddedTorConfig {
        EmbeddedTorConfig {
            state_dir: state_dir.to_owned(),
            test_network: None,
            bootstrap_timeout: Duration::from_secs(180),
            connect_timeout: Duration::from_secs(90),
        }
    }
}

/// A bootstrapped arti client behind a SOCKS5 bridge on 127.0.0.1.
pub struct EmbeddedTor {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EmbeddedTor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EmbeddedTor {
    /// Bootstraps arti (reporting progress as a fraction and a status line)
    /// and opens the bridge. Fails with a clear error instead of hanging.
    pub async fn start(
        config: &EmbeddedTorConfig,
        mut progress: impl FnMut(f32, &str),
    ) -> Result<EmbeddedTor, TorError> {
        let client = TorClient::builder()
            .config(arti_config(config)?)
            .create_unbootstrapped()
            .map_err(|e| TorError::Bootstrap(e.to_string()))?;
        {
            let mut events = client.bootstrap_events();
            let bootstrap = client.bootstrap();
            tokio::pin!(bootstrap);
            let deadline = tokio::time::sleep(config.bootstrap_timeout);
            tokio::pin!(deadline);
            let mut last = String::from("starting");
            loop {
                tokio::select! {
                    done = &mut bootstrap => {
                        done.map_err(|e| TorError::Bootstrap(format!("{e} (last status: {last})")))?;
                        progress(1.0, "bootstrapped");
                        break;
                    }
                    Some(status) = futures_next(&mut events) => {
                        last = status.to_string();
                        tracing::info!(progress = status.as_frac(), status = %last, "tor bootstrap");
                        progress(status.as_frac(), &last);
                    }
                    _ = &mut deadline => {
                        return Err(TorError::BootstrapTimeout { secs: config.bootstrap_timeout.as_secs(), status: last });
                    }
                }
            }
        }
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(TorError::Bridge)?;
        let addr = listener.local_addr().map_err(TorError::Bridge)?;
        let isolation: Arc<Mutex<HashMap<String, IsolationToken>>> = Arc::default();
        let connect_timeout = config.connect_timeout;
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let client = client.clone();
                let isolation = isolation.clone();
                tokio::spawn(async move {
                    if let Err(e) = bridge(socket, &client, &isolation, connect_timeout).await {
                        tracing::debug!(error = %e, "tor bridge connection ended");
                    }
                });
            }
        });
        tracing::info!(%addr, "embedded Tor ready");
        Ok(EmbeddedTor { addr, task })
    }

    /// The bridge's address: point a `socks5h://` proxy at it.
    pub fn socks_addr(&self) -> SocketAddr {
        self.addr
    }
}

async fn futures_next(
    events: &mut arti_client::status::BootstrapEvents,
) -> Option<arti_client::status::BootstrapStatus> {
    use futures_util::StreamExt;
    events.next().await
}

fn arti_config(config: &EmbeddedTorConfig) -> Result<TorClientConfig, TorError> {
    let mut b = TorClientConfig::builder();
    let dir = config.state_dir.to_string_lossy();
    b.storage()
        .cache_dir(CfgPath::new(format!("{dir}/cache")))
        .state_dir(CfgPath::new(format!("{dir}/state")));
    if let Some(path) = &config.test_network {
        let bad = |message: String| TorError::TestNetwork {
            path: path.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let mut auths = dir::AuthorityContacts::builder();
        let mut fallbacks = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let at = |what: &str| bad(format!("line {}: bad {what}", n + 1));
            match fields.as_slice() {
                ["auth", id, addr] => {
                    let addr: SocketAddr = addr.parse().map_err(|_| at("address"))?;
                    auths
                        .v3idents()
                        .push(RsaIdentity::from_hex(id).ok_or_else(|| at("v3ident"))?);
                    auths.uploads().push(vec![addr]);
                    auths.downloads().push(vec![addr]);
                    auths.votes().push(vec![addr]);
                }
                ["fallback", rsa, ed, addr] => {
                    let mut fb = dir::FallbackDir::builder();
                    fb.rsa_identity(
                        RsaIdentity::from_hex(rsa).ok_or_else(|| at("RSA fingerprint"))?,
                    )
                    .ed_identity(
                        Ed25519Identity::from_base64(ed).ok_or_else(|| at("ed25519 identity"))?,
                    )
                    .orports()
                    .push(addr.parse().map_err(|_| at("address"))?);
                    fallbacks.push(fb);
                }
                ["param", name, value] => {
                    let value: i32 = value.parse().map_err(|_| at("parameter value"))?;
                    b.override_net_params().insert((*name).to_owned(), value);
                }
                [] => {}
                _ => return Err(at("line (expected auth, fallback or param)")),
            }
        }
        *b.tor_network().authorities() = auths;
        b.tor_network().set_fallback_caches(fallbacks);
        // A test network lives on 127.0.0.1: allow it, and let relays of one
        // /16 share a path.
        b.address_filter().allow_local_addrs(true);
        b.path_rules()
            .ipv4_subnet_family_prefix(33)
            .ipv6_subnet_family_prefix(129);
        b.storage().permissions().dangerously_trust_everyone();
    }
    b.stream_timeouts().connect_timeout(config.connect_timeout);
    b.build().map_err(|e| TorError::Config(e.to_string()))
}

/// One SOCKS5 connection (RFC 1928, with RFC 1929 username/password used
/// only as an isolation key): CONNECT through arti, then copy both ways.
async fn bridge(
    mut socket: TcpStream,
    client: &TorClient<PreferredRuntime>,
    isolation: &Mutex<HashMap<String, IsolationToken>>,
    connect_timeout: Duration,
) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    socket.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(std::io::Error::other("not SOCKS5"));
    }
    let mut methods = vec![0u8; head[1] as usize];
    socket.read_exact(&mut methods).await?;
    let method = if methods.contains(&2) {
        2
    } else if methods.contains(&0) {
        0
    } else {
        socket.write_all(&[5, 0xFF]).await?;
        return Err(std::io::Error::other("no acceptable SOCKS method"));
    };
    socket.write_all(&[5, method]).await?;
    let mut user = String::new();
    if method == 2 {
        let mut ver_len = [0u8; 2];
        socket.read_exact(&mut ver_len).await?;
        let mut name = vec![0u8; ver_len[1] as usize];
        socket.read_exact(&mut name).await?;
        let mut plen = [0u8; 1];
        socket.read_exact(&mut plen).await?;
        let mut password = vec![0u8; plen[0] as usize];
        socket.read_exact(&mut password).await?;
        user = String::from_utf8_lossy(&name).into_owned();
        socket.write_all(&[1, 0]).await?;
    }
    let mut request = [0u8; 4];
    socket.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            socket.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            socket.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            socket.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut ip = [0u8; 16];
            socket.read_exact(&mut ip).await?;
            std::net::Ipv6Addr::from(ip).to_string()
        }
        _ => {
            socket.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            return Err(std::io::Error::other("unsupported address type"));
        }
    };
    let mut port = [0u8; 2];
    socket.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    if request[1] != 1 {
        socket.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Err(std::io::Error::other("only CONNECT is supported"));
    }
    let token = *isolation
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(user.clone())
        .or_insert_with(IsolationToken::new);
    let mut prefs = StreamPrefs::new();
    prefs.connect_to_onion_services(BoolOrAuto::Explicit(true));
    prefs.set_isolation(token);
    let connected = tokio::time::timeout(
        connect_timeout,
        client.connect_with_prefs((host.as_str(), port), &prefs),
    )
    .await;
    let mut stream = match connected {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(isolation = %user, %host, port, error = %e, "tor connect failed");
            socket.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            return Err(std::io::Error::other(e.to_string()));
        }
        Err(_) => {
            socket.write_all(&[5, 6, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            return Err(std::io::Error::other("connect timed out"));
        }
    };
    tracing::debug!(isolation = %user, %host, port, "tor stream open");
    socket.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut socket, &mut stream).await?;
    Ok(())
}
