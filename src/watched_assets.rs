//! The record of what every watched asset was defined as
//! (`DATA_DIR/watched-assets.json`, `customer/asset` → fingerprint), which
//! decides what a reload or a start retro-hunts: only new or changed assets.
//! Fingerprints are SHA-256 of a canonical serialisation, stable across Rust
//! releases and platforms; never a `std` hasher.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use watchlists::{Asset, WatchlistSet};

/// Fingerprints keyed `customer/asset`.
pub(crate) type Fingerprints = BTreeMap<String, String>;

/// Everything about an asset that decides what it matches and how, in a fixed
/// field order. Adding a field changes every fingerprint: bump `format`.
#[derive(Serialize)]
struct CanonicalAsset<'a> {
    format: u32,
    name: &'a str,
    kind: &'a str,
    terms: Vec<&'a str>,
    domains: &'a [String],
    exclude: Vec<&'a str>,
    require_sale_context: bool,
    severity: watchlists::Severity,
}

/// The fingerprint of one asset's definition: lower-case hex SHA-256 of its
/// canonical JSON.
pub(crate) fn fingerprint(asset: &Asset) -> String {
    let canonical = CanonicalAsset {
        format: 1,
        name: asset.name(),
        kind: asset.kind().as_str(),
        terms: asset.terms().iter().map(|t| t.as_written()).collect(),
        domains: asset.domains(),
        exclude: asset.exclude().iter().map(|t| t.as_written()).collect(),
        require_sale_context: asset.require_sale_context(),
        severity: asset.base_severity(),
    };
    let json = serde_json::to_vec(&canonical).expect("an asset of strings and flags serialises");
    hex::encode(Sha256::digest(&json))
}

/// Every asset's fingerprint, keyed `customer/asset`.
pub(crate) fn fingerprints(set: &WatchlistSet) -> Fingerprints {
    let mut out = BTreeMap::new();
    for list in set.watchlists() {
        for asset in list.assets() {
            out.insert(
                format!("{}/{}", list.customer(), asset.id()),
                fingerprint(asset),
            );
        }
    }
    out
}

/// Keys of `new` that `old` lacks or knew with another fingerprint. A value
/// written by an older leakwatch (16 hex digits of the `std` hasher) counts as
/// the same when that hasher, in this build, still gives it: an upgrade does
/// not retro-hunt everything once because the format changed.
pub(crate) fn changed(
    old: &Fingerprints,
    new: &Fingerprints,
    set: &WatchlistSet,
) -> HashSet<String> {
    let legacy = |key: &str| -> Option<String> {
        set.watchlists().iter().find_map(|list| {
            let asset_id = key.strip_prefix(list.customer())?.strip_prefix('/')?;
            list.assets()
                .iter()
                .find(|a| a.id() == asset_id)
                .map(legacy_fingerprint)
        })
    };
    new.iter()
        .filter(|(k, v)| match old.get(*k) {
            None => true,
            Some(before) if before == *v => false,
            Some(before) if before.len() == 16 => legacy(k).as_ref() != Some(before),
            Some(_) => true,
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// The fingerprint leakwatch wrote before the stable one: only to read an old
/// `watched-assets.json` once (it is rewritten in the new format at start).
fn legacy_fingerprint(asset: &Asset) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    asset.name().hash(&mut h);
    asset.kind().as_str().hash(&mut h);
    for t in asset.terms() {
        t.as_written().hash(&mut h);
    }
    asset.domains().hash(&mut h);
    for t in asset.exclude() {
        t.as_written().hash(&mut h);
    }
    asset.require_sale_context().hash(&mut h);
    format!("{:?}", asset.base_severity()).hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The recorded fingerprints (empty when there is no readable record).
pub(crate) fn read(path: &Path) -> Fingerprints {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Written atomically (temp file + rename) so a crash never leaves half a file.
pub(crate) fn write(path: &Path, fingerprints: &Fingerprints) {
    let tmp = path.with_extension("json.tmp");
    let ok = serde_json::to_vec_pretty(fingerprints)
        .ok()
        .and_then(|bytes| std::fs::write(&tmp, bytes).ok())
        .and_then(|_| std::fs::rename(&tmp, path).ok());
    if ok.is_none() {
        tracing::warn!(path = %path.display(), "cannot record the watched assets");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(src: &str) -> WatchlistSet {
        WatchlistSet::from_toml_str(Path::new("mufg.toml"), src).expect("valid watchlist")
    }

    const MUFG: &str = r#"customer = "mufg-group"
[[assets]]
id = "mufg"
name = "三菱UFJ銀行"
kind = "bank"
terms = ["三菱UFJ銀行", "MUFG"]
domains = ["mufg.jp"]
"#;

    #[test]
    fn the_fingerprint_is_pinned() {
        // SHA-256 of the canonical JSON, computed apart from this code:
        // {"format":1,"name":"三菱UFJ銀行","kind":"bank","terms":["三菱UFJ銀行","MUFG"],
        //  "domains":["mufg.jp"],"exclude":[],"require_sale_context":true,"severity":"high"}
        // (one line, no spaces) | sha256sum
        let got = fingerprints(&set(MUFG));
        assert_eq!(got.get("mufg-group/mufg").map(String::as_str), Some(PINNED));
    }

    const PINNED: &str = "51ffda266f2707955602faedafa3c1250414d4f4a6b1d1f588ce4589d2936425";

    #[test]
    fn only_new_and_changed_assets_are_retro_hunted() {
        let before = set(MUFG);
        let old = fingerprints(&before);
        let after = set(&format!(
            "{MUFG}[[assets]]\nid = \"nicos\"\nkind = \"brand\"\nterms = [\"NICOS\"]\n"
        ));
        let new = fingerprints(&after);
        assert_eq!(
            changed(&old, &new, &after),
            HashSet::from(["mufg-group/nicos".to_owned()])
        );
        let edited = set(&MUFG.replace("\"MUFG\"]", "\"MUFG\", \"三菱日联\"]"));
        assert_eq!(
            changed(&old, &fingerprints(&edited), &edited),
            HashSet::from(["mufg-group/mufg".to_owned()])
        );
        // A record from before the stable hash: unchanged assets stay quiet.
        let asset = &before.watchlists()[0].assets()[0];
        let legacy: Fingerprints =
            BTreeMap::from([("mufg-group/mufg".to_owned(), legacy_fingerprint(asset))]);
        assert!(changed(&legacy, &old, &before).is_empty());
        let stale: Fingerprints =
            BTreeMap::from([("mufg-group/mufg".to_owned(), "0123456789abcdef".to_owned())]);
        assert_eq!(changed(&stale, &old, &before).len(), 1);
    }
}
