//! PGP public key blocks (ASCII armour, RFC 4880 / 9580) to fingerprints:
//! the armour's base64 is decoded (its CRC-24 checked when present), the
//! packets walked, and each primary public-key packet hashed — SHA-1 over
//! 0x99, a two-byte length and the packet body for v4 keys (40 hex digits),
//! SHA-256 over 0x9B, a four-byte length and the body for v6 keys.

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The armour's first line.
pub(crate) const BEGIN: &[u8] = b"-----BEGIN PGP PUBLIC KEY BLOCK-----";
/// The armour's last line.
pub(crate) const END: &[u8] = b"-----END PGP PUBLIC KEY BLOCK-----";

/// The fingerprints (upper-case hex) of the primary keys in the armour
/// body `armour` (the text between the BEGIN and END lines); empty when it
/// does not decode.
pub(crate) fn fingerprints(armour: &str) -> Vec<String> {
    decode_armour(armour)
        .map(|packets| primary_key_fingerprints(&packets))
        .unwrap_or_default()
}

/// The bytes of the armour body: header lines (`Key: value`) skipped, the
/// base64 lines decoded, the `=XXXX` CRC-24 line checked.
fn decode_armour(armour: &str) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut crc_line = None;
    let mut in_headers = true;
    for line in armour.lines() {
        let line = line.trim();
        if in_headers && (line.contains(": ") || line.is_empty()) {
            continue;
        }
        in_headers = false;
        if line.is_empty() {
            continue;
        }
        if let Some(crc) = line.strip_prefix('=').filter(|c| c.len() == 4) {
            crc_line = Some(crc);
            break;
        }
        data.extend_from_slice(line.as_bytes());
    }
    let bytes = base64_decode(&data)?;
    if let Some(crc) = crc_line {
        let expected = base64_decode(crc.as_bytes())?;
        let actual = crc24(&bytes).to_be_bytes();
        if expected[..] != actual[1..] {
            return None;
        }
    }
    Some(bytes)
}

/// Standard base64 with padding (whitespace already removed).
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let trimmed = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    if !input.len().is_multiple_of(4) || trimmed.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in trimmed {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// OpenPGP's CRC-24 (RFC 4880 §6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// The fingerprints of the public-key packets (tag 6) among `packets`.
fn primary_key_fingerprints(mut packets: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while let Some((tag, body, rest)) = next_packet(packets) {
        if tag == 6 {
            if let Some(fp) = fingerprint(body) {
                out.push(fp);
            }
        }
        packets = rest;
    }
    out
}

/// The first packet of `data`: (tag, body, the bytes after it).
fn next_packet(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&header, rest) = data.split_first()?;
    if header & 0x80 == 0 {
        return None;
    }
    let (tag, len, rest) = if header & 0x40 != 0 {
        let tag = header & 0x3f;
        let (&first, rest) = rest.split_first()?;
        match first {
            0..=191 => (tag, usize::from(first), rest),
            192..=223 => {
                let (&second, rest) = rest.split_first()?;
                (
                    tag,
                    ((usize::from(first) - 192) << 8) + usize::from(second) + 192,
                    rest,
                )
            }
            255 => {
                let (len, rest) = rest.split_at_checked(4)?;
                (tag, u32::from_be_bytes(len.try_into().ok()?) as usize, rest)
            }
            // Partial lengths are not allowed for key packets.
            _ => return None,
        }
    } else {
        let tag = (header >> 2) & 0x0f;
        match header & 3 {
            0 => {
                let (&l, rest) = rest.split_first()?;
                (tag, usize::from(l), rest)
            }
            1 => {
                let (l, rest) = rest.split_at_checked(2)?;
                (tag, usize::from(u16::from_be_bytes([l[0], l[1]])), rest)
            }
            2 => {
                let (l, rest) = rest.split_at_checked(4)?;
                (tag, u32::from_be_bytes(l.try_into().ok()?) as usize, rest)
            }
            _ => (tag, rest.len(), rest),
        }
    };
    let (body, rest) = rest.split_at_checked(len)?;
    Some((tag, body, rest))
}

/// The fingerprint of a public-key packet body (v4 or v6).
fn fingerprint(body: &[u8]) -> Option<String> {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
    match body.first()? {
        4 if body.len() >= 6 => {
            let len = u16::try_from(body.len()).ok()?;
            let mut h = Sha1::new();
            h.update([0x99]);
            h.update(len.to_be_bytes());
            h.update(body);
            Some(hex(&h.finalize()))
        }
        6 if body.len() >= 10 => {
            let len = u32::try_from(body.len()).ok()?;
            let mut h = Sha256::new();
            h.update([0x9B]);
            h.update(len.to_be_bytes());
            h.update(body);
            Some(hex(&h.finalize()))
        }
        _ => None,
    }
}
