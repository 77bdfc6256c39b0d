//! Cryptocurrency addresses by their specifications: Bitcoin base58check
//! (P2PKH `1…`, P2SH `3…`), TRON base58check (prefix 0x41), Ethereum
//! (EIP-55 checksum when mixed case) and Monero (block base58, Keccak
//! checksum). Each function takes one alphanumeric run and says whether
//! (and as what) it is an address.

use sha2::{Digest, Sha256};
use sha3::Keccak256;

/// The payload of a base58check string (checksum verified and removed).
fn base58check(s: &str) -> Option<Vec<u8>> {
    let bytes = bs58::decode(s).into_vec().ok()?;
    let split = bytes.len().checked_sub(4)?;
    let (payload, checksum) = bytes.split_at(split);
    let hash = Sha256::digest(Sha256::digest(payload));
    (hash[..4] == *checksum).then(|| payload.to_vec())
}

/// A Bitcoin P2PKH or P2SH address (`1…`, `3…`, 25 to 34 characters).
pub(crate) fn bitcoin_base58(s: &str) -> bool {
    if !(25..=34).contains(&s.len()) || !(s.starts_with('1') || s.starts_with('3')) {
        return false;
    }
    matches!(base58check(s).as_deref(), Some([0x00 | 0x05, rest @ ..]) if rest.len() == 20)
}

/// A TRON address (`T…`, 34 characters, version byte 0x41).
pub(crate) fn tron(s: &str) -> bool {
    s.len() == 34
        && s.starts_with('T')
        && matches!(base58check(s).as_deref(), Some([0x41, rest @ ..]) if rest.len() == 20)
}

/// The EIP-55 form of an Ethereum address (`0x` and 40 hex digits); a
/// mixed-case address must carry a valid checksum, one case carries none.
pub(crate) fn ethereum(s: &str) -> Option<String> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let hash = Keccak256::digest(lower.as_bytes());
    let checksummed: String = lower
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            if b.is_ascii_alphabetic() && nibble >= 8 {
                b.to_ascii_uppercase() as char
            } else {
                b as char
            }
        })
        .collect();
    let mixed =
        hex.bytes().any(|b| b.is_ascii_lowercase()) && hex.bytes().any(|b| b.is_ascii_uppercase());
    if mixed && hex != checksummed {
        return None;
    }
    Some(format!("0x{checksummed}"))
}

/// The Bitcoin base58 alphabet's value of `c`.
fn base58_value(c: u8) -> Option<u64> {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    ALPHABET.iter().position(|&x| x == c).map(|p| p as u64)
}

/// Monero's base58: 8-byte blocks as 11 characters, the last block shorter.
fn monero_base58(s: &str) -> Option<Vec<u8>> {
    /// Characters that encode a block of 0..=8 bytes.
    const ENCODED: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];
    let bytes = s.as_bytes();
    let last_chars = bytes.len() % 11;
    let last_len = ENCODED.iter().position(|&n| n == last_chars)?;
    let mut out = Vec::with_capacity(bytes.len() / 11 * 8 + last_len);
    for block in bytes.chunks(11) {
        let len = if block.len() == 11 { 8 } else { last_len };
        let mut v: u128 = 0;
        for &c in block {
            v = v * 58 + u128::from(base58_value(c)?);
        }
        if v >> (8 * len) != 0 {
            return None;
        }
        out.extend_from_slice(&v.to_be_bytes()[16 - len..]);
    }
    Some(out)
}

/// A Monero mainnet address: standard (`4…`, 95 characters), subaddress
/// (`8…`, 95) or integrated (`4…`, 106), with its Keccak-256 checksum.
pub(crate) fn monero(s: &str) -> bool {
    let prefix_ok = |data: &[u8]| {
        matches!(
            (s.len(), data.first()),
            (95, Some(18 | 42)) | (106, Some(19))
        )
    };
    if !matches!(s.len(), 95 | 106) || !(s.starts_with('4') || s.starts_with('8')) {
        return false;
    }
    let Some(data) = monero_base58(s) else {
        return false;
    };
    let Some(split) = data.len().checked_sub(4) else {
        return false;
    };
    let (body, checksum) = data.split_at(split);
    prefix_ok(&data) && Keccak256::digest(body)[..4] == *checksum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_vectors() {
        for a in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(ethereum(a).as_deref(), Some(a));
            assert_eq!(ethereum(&a.to_ascii_lowercase()).as_deref(), Some(a));
        }
        assert_eq!(ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), None);
        assert_eq!(ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"), None);
    }
}
