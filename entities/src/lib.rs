//! Identifiers that tie a listing to the people behind it — wallets,
//! contacts, keys — found in a document's text and validated by their own
//! specifications (checksums, versions, lengths), so that random strings do
//! not count. Pure: text in, entities out; no I/O, no state.
//!
//! [`extract_entities`] returns each [`Entity`] found: its [`EntityKind`],
//! its canonical value (what an index stores and a pivot compares: a
//! lower-cased e-mail address, `@handle`, a PGP fingerprint) and its byte
//! offsets in the text given. Full-width forms (`ＱＱ：１２３４５６７８`)
//! count as their ASCII forms, with offsets into the original text.
//!
//! ```
//! use entities::{extract_entities, EntityKind};
//! let found = extract_entities("联系TG@abc_shop，USDT: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
//! let kinds: Vec<_> = found.iter().map(|e| (e.kind, e.value.as_str())).collect();
//! assert_eq!(kinds, [
//!     (EntityKind::Telegram, "@abc_shop"),
//!     (EntityKind::Tron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
//! ]);
//! ```
//!
//! One pass over the text finds the address-shaped runs of letters and
//! digits; SIMD byte searches find the `@`, `+`, `t.me/` and PGP armour
//! anchors; one automaton finds the QQ/WeChat/Telegram labels. Every check
//! from an anchor reads at most the longest valid value, so any input costs
//! time linear in its size.

mod bech32;
mod contacts;
mod crypto;
mod fold;
mod keys;
mod pgp;

use serde::{Deserialize, Serialize};

/// What an identifier is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    /// A Bitcoin address: base58check P2PKH/P2SH or bech32/bech32m segwit.
    Btc,
    /// An Ethereum address (EIP-55 checksum verified when mixed case).
    Eth,
    /// A TRON address (the USDT-TRC20 rail).
    Tron,
    /// A Monero address (standard, subaddress or integrated).
    Xmr,
    /// An e-mail address.
    Email,
    /// A Telegram username (`@name`) or invite link (`t.me/+hash`).
    Telegram,
    /// A QQ number, where the text labels it.
    Qq,
    /// A WeChat id, where the text labels it.
    Wechat,
    /// A Jabber/XMPP address (labelled, or on an XMPP-only host).
    Xmpp,
    /// A Tox id (checksum verified).
    Tox,
    /// A Session messenger id.
    Session,
    /// A PGP public key, as its fingerprint.
    Pgp,
    /// A v3 onion service address (checksum verified).
    Onion,
    /// A phone number in international form (`+` and digits).
    Phone,
}

impl EntityKind {
    /// Every kind, in this order.
    pub const ALL: [EntityKind; 14] = [
        EntityKind::Btc,
        EntityKind::Eth,
        EntityKind::Tron,
        EntityKind::Xmr,
        EntityKind::Email,
        EntityKind::Telegram,
        EntityKind::Qq,
        EntityKind::Wechat,
        EntityKind::Xmpp,
        EntityKind::Tox,
        EntityKind::Session,
        EntityKind::Pgp,
        EntityKind::Onion,
        EntityKind::Phone,
    ];

    /// The name in JSON and in the index (`"btc"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Btc => "btc",
            EntityKind::Eth => "eth",
            EntityKind::Tron => "tron",
            EntityKind::Xmr => "xmr",
            EntityKind::Email => "email",
            EntityKind::Telegram => "telegram",
            EntityKind::Qq => "qq",
            EntityKind::Wechat => "wechat",
            EntityKind::Xmpp => "xmpp",
            EntityKind::Tox => "tox",
            EntityKind::Session => "session",
            EntityKind::Pgp => "pgp",
            EntityKind::Onion => "onion",
            EntityKind::Phone => "phone",
        }
    }

    /// The kind named `name` (as [`as_str`](Self::as_str) writes it).
    pub fn parse(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether this is a cryptocurrency address (what `wallet:` searches).
    pub fn is_wallet(self) -> bool {
        matches!(
            self,
            EntityKind::Btc | EntityKind::Eth | EntityKind::Tron | EntityKind::Xmr
        )
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One identifier found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entity {
    /// What it is.
    pub kind: EntityKind,
    /// The canonical value: base58 addresses as written, bech32 and e-mail,
    /// Jabber and onion addresses in lower case, `@handle` in lower case,
    /// Ethereum in its EIP-55 form, PGP fingerprints and Tox ids in upper
    /// case hex, phones as `+` and digits.
    pub value: String,
    /// Byte offset of its start in the text given.
    pub start: usize,
    /// Byte offset of its end in the text given.
    pub end: usize,
}

/// A find, in offsets of the folded text.
pub(crate) struct Found {
    kind: EntityKind,
    value: String,
    start: usize,
    end: usize,
}

impl Found {
    pub(crate) fn new(kind: EntityKind, value: String, start: usize, end: usize) -> Found {
        Found {
            kind,
            value,
            start,
            end,
        }
    }
}

/// Every identifier in `text`, in order of appearance (an identifier
/// written twice is found twice).
pub fn extract_entities(text: &str) -> Vec<Entity> {
    let folded = fold::Folded::new(text);
    let t = folded.as_str();
    let b = t.as_bytes();
    let mut found = Vec::new();
    alphanumeric_runs(t, &mut found);
    for at in memchr::memchr_iter(b'@', b) {
        contacts::at_sign(t, at, &mut found);
    }
    for at in memchr::memchr_iter(b'+', b) {
        contacts::plus_sign(t, at, &mut found);
    }
    contacts::telegram_links(t, &mut found);
    contacts::labelled(t, &mut found);
    pgp_blocks(t, &mut found);
    let mut out: Vec<Entity> = found
        .into_iter()
        .map(|f| Entity {
            kind: f.kind,
            value: f.value,
            start: folded.original(f.start),
            end: folded.original(f.end),
        })
        .collect();
    out.sort_by_key(|e| (e.start, e.kind, e.end));
    // A label and an `@` can find the same handle at the same place.
    out.dedup_by(|a, b| a.kind == b.kind && a.value == b.value && a.start < b.end);
    out
}

/// The canonical value of one identifier as a user types it (`QQ 12345`,
/// `@Shop_Name`, an address): the value of the entity it holds, else the
/// trimmed text in lower case.
pub fn canonical_value(input: &str) -> String {
    let input = input.trim();
    let found = extract_entities(input);
    match found.as_slice() {
        [one] => one.value.clone(),
        _ => input.to_lowercase(),
    }
}

/// The distinct (kind, value) pairs of `entities`, sorted.
pub fn distinct(entities: &[Entity]) -> Vec<(EntityKind, String)> {
    let mut out: Vec<(EntityKind, String)> =
        entities.iter().map(|e| (e.kind, e.value.clone())).collect();
    out.sort();
    out.dedup();
    out
}

/// Address-shaped runs of ASCII letters and digits, checked by length and
/// first characters before any decoding.
fn alphanumeric_runs(text: &str, out: &mut Vec<Found>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i - start >= 25 {
            address_run(text, start, i, out);
        }
    }
}

/// The address that `text[start..end]` (letters and digits) is, if any.
fn address_run(text: &str, start: usize, end: usize, out: &mut Vec<Found>) {
    let run = &text[start..end];
    let b = run.as_bytes();
    let mut push = |kind, value: String| out.push(Found::new(kind, value, start, end));
    let len = run.len();
    if (25..=34).contains(&len) && crypto::bitcoin_base58(run) {
        push(EntityKind::Btc, run.to_owned());
    } else if len == 34 && crypto::tron(run) {
        push(EntityKind::Tron, run.to_owned());
    } else if b.len() >= 3 && b[..3].eq_ignore_ascii_case(b"bc1") {
        if let Some(v) = bech32::segwit_address(run) {
            push(EntityKind::Btc, v);
        }
    } else if len == 42 && b[0] == b'0' {
        if let Some(v) = crypto::ethereum(run) {
            push(EntityKind::Eth, v);
        }
    } else if matches!(len, 95 | 106) && crypto::monero(run) {
        push(EntityKind::Xmr, run.to_owned());
    } else if len == 56 {
        let suffix = text.as_bytes().get(end..end + 6);
        if suffix.is_some_and(|s| s.eq_ignore_ascii_case(b".onion")) {
            if let Some(v) = keys::onion_v3(run) {
                out.push(Found::new(EntityKind::Onion, v, start, end + 6));
            }
        }
    } else if len == 76 {
        if let Some(v) = keys::tox_id(run) {
            push(EntityKind::Tox, v);
        }
    } else if len == 66 {
        if let Some(v) = keys::session_id(run) {
            push(EntityKind::Session, v);
        }
    }
}

/// PGP public key blocks, as the fingerprints of their primary keys. A
/// BEGIN line without an END line ends the search (so a text of many BEGIN
/// lines is read once).
fn pgp_blocks(text: &str, out: &mut Vec<Found>) {
    let b = text.as_bytes();
    let mut from = 0;
    // The next END line at or after `from`, found once and reused while
    // BEGIN lines come before it.
    let mut next_end: Option<usize> = None;
    while let Some(begin) = memchr::memmem::find(&b[from..], pgp::BEGIN).map(|i| from + i) {
        let body_start = begin + pgp::BEGIN.len();
        let end_at = match next_end {
            Some(e) if e >= body_start => e,
            _ => match memchr::memmem::find(&b[body_start..], pgp::END) {
                Some(i) => body_start + i,
                None => return,
            },
        };
        next_end = Some(end_at);
        // A second BEGIN before this END: the first block was cut short.
        match memchr::memmem::find(&b[body_start..end_at], pgp::BEGIN) {
            Some(i) => from = body_start + i,
            None => {
                let end = end_at + pgp::END.len();
                for fp in pgp::fingerprints(&text[body_start..end_at]) {
                    out.push(Found::new(EntityKind::Pgp, fp, begin, end));
                }
                from = end;
            }
        }
    }
}

#[cfg(test)]
mod tests;
