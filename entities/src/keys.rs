//! Public keys written as text: v3 onion addresses (SHA3-256 checksum and
//! version byte), Tox ids (XOR checksum) and Session ids (`05` and an
//! X25519 key; no checksum exists, so only the exact shape is checked).

use sha3::{Digest, Sha3_256};

/// RFC 4648 base32 (lower case) of exactly 56 characters: 35 bytes.
fn base32_35(s: &[u8]) -> Option<[u8; 35]> {
    if s.len() != 56 {
        return None;
    }
    let mut out = [0u8; 35];
    let (mut acc, mut bits, mut n) = (0u64, 0u32, 0usize);
    for &c in s {
        let v = match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => c - b'a',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    Some(out)
}

/// The lower-case `….onion` name when `label` (56 base32 characters) is a
/// v3 onion service address.
pub(crate) fn onion_v3(label: &str) -> Option<String> {
    let bytes = base32_35(label.as_bytes())?;
    let (pubkey, rest) = bytes.split_at(32);
    let (checksum, version) = rest.split_at(2);
    if version != [3] {
        return None;
    }
    let mut h = Sha3_256::new();
    h.update(b".onion checksum");
    h.update(pubkey);
    h.update(version);
    let digest = h.finalize();
    (digest[..2] == *checksum).then(|| format!("{}.onion", label.to_ascii_lowercase()))
}

/// Bytes of an even-length hex string.
fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [a, b] => Some(digit(*a)? << 4 | digit(*b)?),
            _ => None,
        })
        .collect()
}

/// The upper-case Tox id when `s` (76 hex digits: key, nospam, checksum)
/// carries a valid checksum.
pub(crate) fn tox_id(s: &str) -> Option<String> {
    if s.len() != 76 {
        return None;
    }
    let bytes = hex_bytes(s)?;
    let mut checksum = [0u8; 2];
    for (i, b) in bytes[..36].iter().enumerate() {
        checksum[i % 2] ^= b;
    }
    (bytes[36..] == checksum).then(|| s.to_ascii_uppercase())
}

/// The lower-case Session id when `s` is `05` and 64 hex digits.
pub(crate) fn session_id(s: &str) -> Option<String> {
    (s.len() == 66 && s.starts_with("05") && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| s.to_ascii_lowercase())
}
