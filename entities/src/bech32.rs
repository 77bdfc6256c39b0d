//! Bitcoin segwit addresses: bech32 (BIP-173) and bech32m (BIP-350)
//! decoding with the witness version rules. Validation only; no encoding.

/// The bech32 data alphabet.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/// The checksum constant of bech32 (witness version 0).
const BECH32_CONST: u32 = 1;
/// The checksum constant of bech32m (witness versions 1 to 16).
const BECH32M_CONST: u32 = 0x2bc8_30a3;

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// The 5-bit value of a bech32 character (lower case).
fn value(c: u8) -> Option<u8> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u8)
}

/// Regroups 5-bit values into bytes; the padding must be under 5 bits and
/// zero (BIP-173).
fn to_bytes(data: &[u8]) -> Option<Vec<u8>> {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut out = Vec::with_capacity(data.len() * 5 / 8);
    for &v in data {
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    (bits < 5 && acc == 0).then_some(out)
}

/// The lower-case form of `s` when it is a valid mainnet segwit address
/// (`bc1…`): one case, a valid checksum of the kind its witness version
/// requires, and a program of a permitted length.
pub(crate) fn segwit_address(s: &str) -> Option<String> {
    if !(14..=90).contains(&s.len()) {
        return None;
    }
    let has_lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = s.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let data_part = lower.strip_prefix("bc1")?;
    if data_part.len() < 7 || data_part.contains('1') {
        return None;
    }
    let data: Vec<u8> = data_part.bytes().map(value).collect::<Option<_>>()?;
    let hrp = b"bc";
    let expanded = hrp
        .iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31));
    let checksum = polymod(expanded.chain(data.iter().copied()));
    let (&version, rest) = data.split_first()?;
    let program = to_bytes(&rest[..rest.len().checked_sub(6)?])?;
    let valid = match version {
        0 => checksum == BECH32_CONST && matches!(program.len(), 20 | 32),
        1..=16 => checksum == BECH32M_CONST && (2..=40).contains(&program.len()),
        _ => false,
    };
    valid.then_some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip_173_and_350_vectors() {
        for valid in [
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        ] {
            assert!(segwit_address(valid).is_some(), "{valid}");
        }
        for invalid in [
            // v0 with a bech32m checksum; v1 with a bech32 checksum.
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
            // v0 program of 16 bytes; mixed case; one character changed.
            "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
            "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            // testnet.
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
        ] {
            assert!(segwit_address(invalid).is_none(), "{invalid}");
        }
    }
}
