//! The pure half of the archive: content addresses, the zstd framing of a
//! stored page, and what changed between two versions of a document. No
//! I/O here: the store calls these.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// zstd level of stored pages: level 3 (zstd's default) packs HTML 4–6×
/// in well under a millisecond for a 100 KB page.
const LEVEL: i32 = 3;

/// The lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `text` is a SHA-256 as `sha256_hex` writes it.
pub(crate) fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where the page with SHA-256 `sha` lives under the archive's `root`:
/// `root/ab/cdef….zst` (two hex digits a folder, so no folder holds more
/// than a 256th of the pages). `None` for anything but a SHA-256, so a
/// row can never point a path outside the archive.
pub(crate) fn object_path(root: &Path, sha: &str) -> Option<PathBuf> {
    is_sha256(sha).then(|| root.join(&sha[..2]).join(format!("{}.zst", &sha[2..])))
}

/// The page as stored: one zstd frame (with its content size).
pub(crate) fn compress(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::bulk::compress(raw, LEVEL)
}

/// The page's bytes from a stored frame.
pub(crate) fn decompress(stored: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::stream::decode_all(stored)
}

/// The fields of a document whose change makes a new version.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Snapshot {
    pub title: Option<String>,
    pub price: Option<String>,
    pub seller: Option<String>,
    /// SHA-256 of the extracted text (title, a newline, body).
    pub text_sha256: String,
}

/// One field that differs from the previous version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Change {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The extracted text of a document as the archive keeps it: the title,
/// a newline, the body (as the matcher sees it).
pub(crate) fn document_text(title: Option<&str>, body: Option<&str>) -> String {
    format!("{}\n{}", title.unwrap_or(""), body.unwrap_or(""))
}

/// What changed from `previous` to `next`: price, seller and title with
/// both values; the text as its two hashes (the texts are in the versions).
pub(crate) fn changes(previous: &Snapshot, next: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    let mut field = |name: &str, from: &Option<String>, to: &Option<String>| {
        if from != to {
            out.push(Change {
                field: name.to_owned(),
                from: from.clone(),
                to: to.clone(),
            });
        }
    };
    field("price", &previous.price, &next.price);
    field("seller", &previous.seller, &next.seller);
    field("title", &previous.title, &next.title);
    if previous.text_sha256 != next.text_sha256 {
        out.push(Change {
            field: "text".to_owned(),
            from: Some(previous.text_sha256.clone()),
            to: Some(next.text_sha256.clone()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_address_and_path() {
        let sha = sha256_hex(b"abc");
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            object_path(Path::new("/d/evidence"), &sha).expect("a sha"),
            Path::new(
                "/d/evidence/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.zst"
            )
        );
        assert!(object_path(Path::new("/d"), "../../etc/passwd").is_none());
        assert!(object_path(Path::new("/d"), &sha.to_uppercase()).is_none());
    }

    #[test]
    fn frames_round_trip_and_shrink_html() {
        let html = "<tr><td>出售三菱日联网银</td></tr>".repeat(500);
        let (gbk, _, _) = encoding_rs::GBK.encode(&html);
        let stored = compress(&gbk).expect("compress");
        assert!(
            stored.len() * 4 < gbk.len(),
            "{} of {}",
            stored.len(),
            gbk.len()
        );
        assert_eq!(decompress(&stored).expect("decompress"), gbk.as_ref());
        assert!(decompress(b"not zstd").is_err());
    }

    #[test]
    fn changes_name_each_field_that_moved() {
        let v1 = Snapshot {
            title: Some("出售 MUFG 网银".into()),
            price: Some("1 BTC".into()),
            seller: Some("alice".into()),
            text_sha256: "a".repeat(64),
        };
        assert!(changes(&v1, &v1).is_empty());
        let v2 = Snapshot {
            price: Some("2 BTC".into()),
            seller: Some("bob".into()),
            ..v1.clone()
        };
        let c = changes(&v1, &v2);
        assert_eq!(
            c.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            ["price", "seller"]
        );
        assert_eq!(c[0].from.as_deref(), Some("1 BTC"));
        assert_eq!(c[0].to.as_deref(), Some("2 BTC"));
        let v3 = Snapshot {
            text_sha256: "b".repeat(64),
            ..v2.clone()
        };
        assert_eq!(changes(&v2, &v3)[0].field, "text");
    }
}
