//! Validation of v3 onion addresses (rend-spec-v3 "Encoding onion
//! addresses"): 56 base32 characters encoding the service's ed25519 key, a
//! two-byte SHA3-256 checksum and the version byte 3. A typo'd or truncated
//! address is refused before any request is made.

use sha3::{Digest, Sha3_256};

/// Why a host is not a valid v3 onion address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OnionError {
    /// A 16-character v2 address.
    #[error("{host}: v2 onion addresses (16 characters) are retired; ask for the site's v3 address (56 characters)")]
    V2 {
        /// The host as given.
        host: String,
    },
    /// Not 56 characters before `.onion`.
    #[error("{host}: an onion address has 56 base32 characters before .onion, this has {len}")]
    Length {
        /// The host as given.
        host: String,
        /// Its length before `.onion`.
        len: usize,
    },
    /// A character outside base32.
    #[error("{host}: {ch:?} is not a base32 character (a–z, 2–7)")]
    Character {
        /// The host as given.
        host: String,
        /// The first character that is not base32.
        ch: char,
    },
    /// A version byte other than 3.
    #[error("{host}: version byte {version}, expected 3")]
    Version {
        /// The host as given.
        host: String,
        /// The version byte found.
        version: u8,
    },
    /// The checksum does not match: a typo or a truncation.
    #[error("{host}: checksum mismatch — the address is mistyped or truncated")]
    Checksum {
        /// The host as given.
        host: String,
    },
}

/// Whether `host` is an onion host (`….onion`, any case, subdomains included).
pub fn is_onion(host: &str) -> bool {
    host.trim_end_matches('.')
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.eq_ignore_ascii_case("onion"))
}

/// Checks a `.onion` host (subdomains like `www.` allowed).
pub fn validate_onion_host(host: &str) -> Result<(), OnionError> {
    let lower = host.trim_end_matches('.').to_ascii_lowercase();
    let without_tld = lower.strip_suffix(".onion").unwrap_or(&lower);
    let label = without_tld.rsplit('.').next().unwrap_or(without_tld);
    let err_host = host.to_owned();
    if label.len() == 16 {
        return Err(OnionError::V2 { host: err_host });
    }
    if label.len() != 56 {
        return Err(OnionError::Length {
            host: err_host,
            len: label.len(),
        });
    }
    let bytes = base32_decode(label).map_err(|ch| OnionError::Character {
        host: err_host.clone(),
        ch,
    })?;
    let (pubkey, rest) = bytes.split_at(32);
    let (checksum, version) = (&rest[..2], rest[2]);
    if version != 3 {
        return Err(OnionError::Version {
            host: err_host,
            version,
        });
    }
    let mut h = Sha3_256::new();
    h.update(b".onion checksum");
    h.update(pubkey);
    h.update([version]);
    if &h.finalize()[..2] != checksum {
        return Err(OnionError::Checksum { host: err_host });
    }
    Ok(())
}

/// RFC 4648 base32 without padding, lower case; 56 characters → 35 bytes.
fn base32_decode(text: &str) -> Result<Vec<u8>, char> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u64, 0u32);
    for ch in text.chars() {
        let value = match ch {
            'a'..='z' => ch as u64 - 'a' as u64,
            '2'..='7' => ch as u64 - '2' as u64 + 26,
            _ => return Err(ch),
        };
        buffer = buffer << 5 | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Tor Project's own onion service (a real, valid v3 address).
    const TORPROJECT: &str = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";

    #[test]
    fn valid_v3_addresses_pass() {
        assert_eq!(validate_onion_host(TORPROJECT), Ok(()));
        assert_eq!(validate_onion_host(&TORPROJECT.to_uppercase()), Ok(()));
        assert_eq!(validate_onion_host(&format!("www.{TORPROJECT}")), Ok(()));
        assert!(is_onion(TORPROJECT) && is_onion("x.ONION.") && !is_onion("onion.example.com"));
    }

    #[test]
    fn mistakes_are_named() {
        let typo = TORPROJECT.replacen('g', "h", 1);
        assert!(matches!(
            validate_onion_host(&typo),
            Err(OnionError::Checksum { .. })
        ));
        assert!(matches!(
            validate_onion_host("expyuzz4wqqyqhjn.onion"),
            Err(OnionError::V2 { .. })
        ));
        assert!(matches!(
            validate_onion_host("abc.onion"),
            Err(OnionError::Length { len: 3, .. })
        ));
        let bad = TORPROJECT.replacen('2', "1", 1);
        assert!(matches!(
            validate_onion_host(&bad),
            Err(OnionError::Character { ch: '1', .. })
        ));
    }
}
