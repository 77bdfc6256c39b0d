//! A hostile little HTTP/1.1 server for the crawler's tests and benchmark:
//! binds a loopback address, records every request's arrival time and the
//! requests in flight, and answers what the test's handler says — pages,
//! endless streams, trickles, silence. Hand-written on tokio so that every
//! byte and every delay is the test's to choose.
// Shared by several test binaries and the bench, each using its own part.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    /// When its head had fully arrived.
    pub at: Instant,
    /// Path and query.
    pub path: String,
    pub headers: HashMap<String, String>,
}

/// What the handler gets.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// How to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response (keep-alive), after `delay`.
    Page {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        delay: Duration,
    },
    /// `total` bytes of `chunk` repeated, close-delimited, as fast as the
    /// client reads; `content_length` announces it when set.
    Stream {
        headers: Vec<(String, String)>,
        chunk: Vec<u8>,
        total: u64,
        content_length: bool,
    },
    /// Headers, then one body byte every `every`, forever (slowloris).
    Trickle {
        headers: Vec<(String, String)>,
        every: Duration,
    },
    /// Reads the request and never answers.
    Hang,
}

impl Reply {
    pub fn html(body: impl Into<Vec<u8>>) -> Reply {
        Reply::with_type(200, "text/html; charset=utf-8", body)
    }

    pub fn with_type(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Page {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply::with_type(
            status,
            "text/html",
            format!("<html><body>status {status}</body></html>"),
        )
    }

    pub fn redirect(to: &str) -> Reply {
        Reply::Page {
            status: 302,
            headers: vec![("Location".into(), to.into())],
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        match &mut self {
            Reply::Page { headers, .. }
            | Reply::Stream { headers, .. }
            | Reply::Trickle { headers, .. } => headers.push((name.into(), value.into())),
            Reply::Hang => {}
        }
        self
    }

    pub fn delayed(mut self, by: Duration) -> Reply {
        if let Reply::Page { delay, .. } = &mut self {
            *delay = by;
        }
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Serves on 127.0.0.1 (random port).
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> TestServer {
        TestServer::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), handler).await
    }

    /// Serves on `ip` (any 127.0.0.x), random port.
    pub async fn start_on(
        ip: IpAddr,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind((ip, 0))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let hits = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = {
            let (hits, in_flight, max_in_flight) =
                (hits.clone(), in_flight.clone(), max_in_flight.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let conn = Connection {
                        hits: hits.clone(),
                        in_flight: in_flight.clone(),
                        max_in_flight: max_in_flight.clone(),
                        handler: handler.clone(),
                    };
                    tokio::spawn(conn.serve(stream));
                }
            })
        };
        TestServer {
            addr,
            hits,
            in_flight,
            max_in_flight,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("hits lock").clone()
    }

    pub fn hits_of(&self, path: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == path).collect()
    }

    /// Most requests ever being answered at once.
    pub fn max_concurrent(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

struct Connection {
    hits: Arc<Mutex<Vec<Hit>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    handler: Arc<Handler>,
}

impl Connection {
    async fn serve(self, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut buf = Vec::new();
        loop {
            let Some(request) = read_head(&mut stream, &mut buf).await else {
                return;
            };
            self.hits.lock().expect("hits lock").push(Hit {
                at: Instant::now(),
                path: request.path.clone(),
                headers: request.headers.clone(),
            });
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let reply = (self.handler)(&request);
            let keep_alive = self.answer(&mut stream, reply).await;
            if !keep_alive {
                let _ = stream.shutdown().await;
                return;
            }
        }
    }

    /// A request stops counting as in flight just before its answer is
    /// written: the client cannot have let go of it earlier.
    fn answered(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Writes the reply; whether the connection can serve another request.
    async fn answer(&self, stream: &mut TcpStream, reply: Reply) -> bool {
        match reply {
            Reply::Page {
                status,
                headers,
                body,
                delay,
            } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                self.answered();
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\n",
                    reason(status),
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                stream.write_all(head.as_bytes()).await.is_ok()
                    && stream.write_all(&body).await.is_ok()
            }
            Reply::Stream {
                headers,
                chunk,
                total,
                content_length,
            } => {
                self.answered();
                let mut head = "HTTP/1.1 200 OK\r\nConnection: close\r\n".to_owned();
                if content_length {
                    head.push_str(&format!("Content-Length: {total}\r\n"));
                }
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return false;
                }
                let mut sent = 0u64;
                while sent < total {
                    let n = chunk.len().min((total - sent) as usize);
                    if stream.write_all(&chunk[..n]).await.is_err() {
                        break;
                    }
                    sent += n as u64;
                }
                false
            }
            Reply::Trickle { headers, every } => {
                self.answered();
                let mut head = "HTTP/1.1 200 OK\r\nConnection: close\r\n".to_owned();
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n<html><body>");
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return false;
                }
                loop {
                    tokio::time::sleep(every).await;
                    if stream.write_all(b"a").await.is_err() || stream.flush().await.is_err() {
                        return false;
                    }
                }
            }
            Reply::Hang => {
                self.answered();
                let mut sink = [0u8; 64];
                // Wait for the client to give up (EOF or error).
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                false
            }
        }
    }
}

async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let mut lines = head.split("\r\n");
            let path = lines.next()?.split(' ').nth(1)?.to_owned();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            return Some(Request { path, headers });
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A profile for a test board at `base` (ending in `/`): list pages
/// `list?p=N` link topics `topic?t=N` (class `t`) and further list pages
/// (class `next`); topic pages have `h1` and `div.body`.
pub fn board_profile(name: &str, base: &str, extra: &str) -> crawler::SiteProfile {
    let text = format!(
        r#"
name = "{name}"
base_url = "{base}"
seeds = ["list?p=1"]
{extra}
[links]
follow = ["a.t", "a.next"]
[topic]
url = 'topic\?t=\d+$'
title = "h1"
body = "div.body"
"#
    );
    crawler::SiteProfile::parse(&text, Path::new("test-board.toml")).expect("test profile is valid")
}

/// A board of `pages` list pages with `per_page` topics each: topic ids are
/// `(p-1)*per_page+1 ..`. Returns the body for `path`, `None` when unknown.
pub fn board_page(path: &str, pages: u32, per_page: u32) -> Option<String> {
    if let Some(p) = path
        .strip_prefix("/list?p=")
        .and_then(|p| p.parse::<u32>().ok())
    {
        if p == 0 || p > pages {
            return None;
        }
        let mut html = String::from("<html><body><ul>");
        for t in (p - 1) * per_page + 1..=p * per_page {
            html.push_str(&format!(
                "<li><a class=t href=\"topic?t={t}\">topic {t}</a> 0 replies</li>"
            ));
        }
        html.push_str("</ul>");
        if p < pages {
            html.push_str(&format!("<a class=next href=\"list?p={}\">next</a>", p + 1));
        }
        html.push_str("</body></html>");
        return Some(html);
    }
    let t = path.strip_prefix("/topic?t=")?.parse::<u32>().ok()?;
    (t >= 1 && t <= pages * per_page)
        .then(|| format!("<html><body><h1>出售 topic {t}</h1><div class=body>body of topic {t}</div></body></html>"))
}

/// The documents a test consumer received, acknowledging as it goes.
pub async fn collect(
    mut rx: tokio::sync::mpsc::Receiver<crawler::Delivery>,
    crawler: crawler::Crawler,
) -> Vec<crawler::Document> {
    let mut docs = Vec::new();
    while let Some(d) = rx.recv().await {
        crawler.acknowledge(&[d.receipt]).expect("acknowledge");
        docs.push(d.document);
    }
    docs
}

/// Checks a site's request times against its budget: in any window of
/// length `w`, at most `burst + w/interval` requests (+ `slack` of timing
/// jitter). Returns the worst excess found (0 when polite).
pub fn rate_violations(times: &[Instant], per_minute: u32, burst: u32, slack: Duration) -> usize {
    let interval = Duration::from_secs(60) / per_minute;
    let mut worst = 0usize;
    for i in 0..times.len() {
        for j in i + 1..times.len() {
            let span = times[j].saturating_duration_since(times[i]) + slack;
            let allowed = burst as usize + (span.as_nanos() / interval.as_nanos()) as usize;
            let seen = j - i + 1;
            worst = worst.max(seen.saturating_sub(allowed));
        }
    }
    worst
}

/// Crawl options that retry within milliseconds and rest a site after two
/// failures for 200 ms: circuit-breaker behaviour in test time.
pub fn quick_breaker() -> crawler::CrawlOptions {
    crawler::CrawlOptions {
        retry_base: Duration::from_millis(10),
        retry_cap: Duration::from_millis(20),
        breaker_threshold: 2,
        breaker_pause: Duration::from_millis(200),
        breaker_max_pause: Duration::from_millis(200),
        ..crawler::CrawlOptions::default()
    }
}

/// What the test SOCKS5 proxy does with each CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socks {
    /// Refuses it (a dead onion).
    Refuse,
    /// Connects it onward and copies both ways.
    Forward,
}

/// A SOCKS5 proxy on loopback speaking the username/password method
/// (RFC 1928/1929), as Tor's SocksPort, which isolates circuits by those
/// credentials: it records each connection's username and target
/// (`host:port`), then refuses or forwards it. Stops when dropped.
pub struct SocksProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SocksProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SocksProxy {
    pub async fn start(mode: Socks) -> SocksProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let task = {
            let seen = seen.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let seen = seen.clone();
                    tokio::spawn(async move {
                        let _ = socks_connection(stream, mode, seen).await;
                    });
                }
            })
        };
        SocksProxy { addr, seen, task }
    }

    /// Each connection's username, in order.
    pub fn usernames(&self) -> Vec<String> {
        self.connections().into_iter().map(|(u, _)| u).collect()
    }

    /// Each connection's username and target.
    pub fn connections(&self) -> Vec<(String, String)> {
        self.seen.lock().expect("socks lock").clone()
    }
}

async fn socks_connection(
    mut s: TcpStream,
    mode: Socks,
    seen: Arc<Mutex<Vec<(String, String)>>>,
) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    s.read_exact(&mut methods).await?;
    assert!(methods.contains(&2), "the client offers username/password");
    s.write_all(&[5, 2]).await?;
    let mut ver_len = [0u8; 2];
    s.read_exact(&mut ver_len).await?;
    let mut name = vec![0u8; ver_len[1] as usize];
    s.read_exact(&mut name).await?;
    let mut plen = [0u8; 1];
    s.read_exact(&mut plen).await?;
    let mut password = vec![0u8; plen[0] as usize];
    s.read_exact(&mut password).await?;
    s.write_all(&[1, 0]).await?;
    let mut request = [0u8; 4];
    s.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            s.read_exact(&mut ip).await?;
            Ipv4Addr::from(ip).to_string()
        }
        4 => {
            let mut ip = [0u8; 16];
            s.read_exact(&mut ip).await?;
            std::net::Ipv6Addr::from(ip).to_string()
        }
        _ => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await?;
            let mut host = vec![0u8; len[0] as usize];
            s.read_exact(&mut host).await?;
            String::from_utf8_lossy(&host).into_owned()
        }
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    seen.lock().expect("socks lock").push((
        String::from_utf8_lossy(&name).into_owned(),
        format!("{host}:{port}"),
    ));
    if mode == Socks::Refuse {
        // 0x05: connection refused.
        return s.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await;
    }
    let mut upstream = TcpStream::connect((host.as_str(), port)).await?;
    s.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut s, &mut upstream).await?;
    Ok(())
}
