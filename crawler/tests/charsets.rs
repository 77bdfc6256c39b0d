//! Charset decoding on real legacy-encoded pages and feeds
//! (`../shared/fixtures/real/charsets/<TRUE ENCODING>/`, from chardet's test
//! corpus): decoded without a header, with a truthful one, and served over
//! loopback by a server that lies in its `Content-Type`.

mod support;

use std::path::PathBuf;

use crawler::{FetchOptions, Fetcher, Transport};
use encoding_rs::Encoding;
use extract::{decode_html, EncodingSource};
use support::{Reply, TestServer};
use url::Url;

/// The shared fixtures beside the checkout (or `LEAKWATCH_SHARED_FIXTURES`).
fn fixtures() -> PathBuf {
    let dir = std::env::var_os("LEAKWATCH_SHARED_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"))
        .join("real/charsets");
    assert!(
        dir.is_dir(),
        "{} is missing: these tests need the shared real-page fixtures beside the checkout \
         (or set LEAKWATCH_SHARED_FIXTURES to the fixtures folder)",
        dir.display()
    );
    dir
}

/// (file, its true encoding) for every fixture.
fn corpus() -> Vec<(PathBuf, &'static Encoding)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures()).expect("readable fixtures folder") {
        let dir = entry.expect("folder entry").path();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let truth = match name.to_ascii_uppercase().as_str() {
            "CP932" => encoding_rs::SHIFT_JIS,
            other => Encoding::for_label(other.as_bytes())
                .unwrap_or_else(|| panic!("unknown encoding folder {name}")),
        };
        for file in std::fs::read_dir(&dir).expect("readable folder") {
            out.push((file.expect("file entry").path(), truth));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 15,
        "expected the full corpus, found {} files",
        out.len()
    );
    out
}

/// The page as its true encoding reads it.
fn truth_text(bytes: &[u8], truth: &'static Encoding) -> String {
    truth.decode(bytes).0.into_owned()
}

/// Files too short for any detector (a 4-character EUC-JP word): they are
/// decoded through their labels only. (ISO-2022-JP is 7-bit: its escape
/// bytes count as evidence.)
fn is_tiny(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .filter(|b| !b.is_ascii() || **b == 0x1B)
        .count()
        < 16
}

#[test]
fn real_legacy_pages_decode_as_their_true_encoding_without_a_header() {
    let mut wrong = Vec::new();
    for (path, truth) in corpus() {
        let bytes = std::fs::read(&path).expect("readable fixture");
        if is_tiny(&bytes) {
            continue;
        }
        let d = decode_html(&bytes, None, None);
        if d.text != truth_text(&bytes, truth) {
            wrong.push(format!(
                "{}: decoded as {} ({:?}), truly {}",
                path.display(),
                d.encoding.name(),
                d.source,
                truth.name()
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_truthful_header_is_used_as_is() {
    for (path, truth) in corpus() {
        let bytes = std::fs::read(&path).expect("readable fixture");
        let d = decode_html(
            &bytes,
            Some(&format!("text/html; charset={}", truth.name())),
            None,
        );
        assert_eq!(d.source, EncodingSource::Header, "{}", path.display());
        assert_eq!(d.text, truth_text(&bytes, truth), "{}", path.display());
    }
}

#[test]
fn headers_that_lie_lose_to_the_bytes() {
    let mut wrong = Vec::new();
    for (path, truth) in corpus() {
        let bytes = std::fs::read(&path).expect("readable fixture");
        if is_tiny(&bytes) {
            continue;
        }
        // The two lies seen in the wild: a UTF-8 default from a framework,
        // and Apache's ISO-8859-1 AddDefaultCharset.
        for lie in ["utf-8", "iso-8859-1"] {
            let d = decode_html(&bytes, Some(&format!("text/html; charset={lie}")), None);
            if d.text != truth_text(&bytes, truth) {
                wrong.push(format!(
                    "{} served as {lie}: decoded as {}",
                    path.display(),
                    d.encoding.name()
                ));
            } else if d.overridden_label.is_none() {
                wrong.push(format!("{}: the lie {lie} is not reported", path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn fetched_pages_carry_their_detected_encoding_despite_a_lying_server() {
    let corpus: Vec<(PathBuf, &'static Encoding, Vec<u8>)> = corpus()
        .into_iter()
        .map(|(p, t)| {
            let bytes = std::fs::read(&p).expect("readable fixture");
            (p, t, bytes)
        })
        .filter(|(_, _, b)| !is_tiny(b))
        .collect();
    let pages: Vec<Vec<u8>> = corpus.iter().map(|(_, _, b)| b.clone()).collect();
    let server = TestServer::start(move |req| {
        let n: usize = req
            .path
            .trim_start_matches("/page/")
            .parse()
            .unwrap_or(usize::MAX);
        match pages.get(n) {
            Some(body) => Reply::with_type(200, "text/html; charset=UTF-8", body.clone()),
            None => Reply::status(404),
        }
    })
    .await;
    let profile = support::board_profile(
        "charsets",
        &server.url("/"),
        "[rate_limit]\nrequests_per_minute = 60000\nburst = 100",
    );
    let fetcher = Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher");
    for (n, (path, truth, bytes)) in corpus.iter().enumerate() {
        let url = Url::parse(&server.url(&format!("/page/{n}"))).expect("url");
        let page = fetcher.fetch(&profile, &url).await.expect("fetched");
        assert_eq!(page.decoded.encoding, *truth, "{}", path.display());
        assert_eq!(
            page.decoded.text,
            truth_text(bytes, truth),
            "{}",
            path.display()
        );
        // The capture keeps the bytes as served (for the evidence
        // archive), with what the server said and what was detected.
        let capture = &page.capture;
        assert_eq!(&capture.body[..], &bytes[..], "{}", path.display());
        assert_eq!(capture.encoding, truth.name());
        assert_eq!(capture.status, 200);
        assert_eq!(capture.requested_url, url.as_str());
        assert_eq!(capture.final_url, url.as_str());
        assert_eq!(capture.transport, "direct");
        assert_eq!(capture.identity, None);
        assert!(capture.headers.contains(&(
            "content-type".to_owned(),
            "text/html; charset=UTF-8".to_owned()
        )));
    }
}
