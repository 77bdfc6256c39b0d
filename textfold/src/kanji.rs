//! Kanji variant folding: Japanese shinjitai, traditional and simplified Chinese
//! forms of a character fold to one canonical (simplified) form.
//! Derived once from OpenCC's maintained dictionaries (Jp2t, then T2s), never a hand list.

use ferrous_opencc::{config::BuiltinConfig, OpenCC};

/// Code-point ranges whose characters appear as keys in OpenCC's Jp2t / T2s
/// character dictionaries (JPVariantsRev and JPShinjitaiCharacters are BMP only;
/// TSCharacters reaches into Extension B–E up to U+2B726).
const RANGES: [(u32, u32); 3] = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2B73F)];

/// Every character whose canonical form differs from itself, as `(from, to)` pairs,
/// already closed under iteration (folding `to` again gives `to`).
pub(crate) fn variant_pairs() -> Vec<(char, char)> {
    let jp2t = OpenCC::from_config(BuiltinConfig::Jp2t)
        .expect("ferrous-opencc (feature `full`) embeds its built-in Jp2t config");
    let t2s = OpenCC::from_config(BuiltinConfig::T2s)
        .expect("ferrous-opencc embeds its built-in T2s config");

    let chars: Vec<char> = RANGES
        .iter()
        .flat_map(|&(lo, hi)| (lo..=hi).filter_map(char::from_u32))
        .collect();
    // One conversion call for all characters, one per line, so that no phrase
    // dictionary entry can span two characters and each is converted alone.
    // Jp2t's dictionaries (JPVariantsRev, JPShinjitaiCharacters) are BMP-only: the
    // supplementary planes skip that pass, which saves a quarter of the start-up time.
    let lines = |cs: &mut dyn Iterator<Item = &char>| {
        let mut s = String::with_capacity(chars.len() * 5);
        for &c in cs {
            s.push(c);
            s.push('\n');
        }
        s
    };
    let bmp = lines(&mut chars.iter().filter(|c| (**c as u32) <= 0xFFFF));
    let astral = lines(&mut chars.iter().filter(|c| (**c as u32) > 0xFFFF));
    let converted = t2s.convert(&(jp2t.convert(&bmp) + &astral));
    let lines: Vec<&str> = converted.split('\n').collect();

    let mut map = std::collections::HashMap::new();
    if lines.len() == chars.len() + 1 {
        for (&c, line) in chars.iter().zip(&lines) {
            record(&mut map, c, line);
        }
    } else {
        // A dictionary entry changed the line structure: fall back to one call per
        // character (slower, same result).
        for &c in &chars {
            let mut one = [0u8; 4];
            let out = t2s.convert(&jp2t.convert(c.encode_utf8(&mut one)));
            record(&mut map, c, &out);
        }
    }

    // Close under iteration so the fold is idempotent (A → B → C becomes A → C).
    let mut pairs: Vec<(char, char)> = map
        .keys()
        .map(|&from| {
            let mut to = from;
            for _ in 0..8 {
                match map.get(&to) {
                    Some(&next) if next != to => to = next,
                    _ => break,
                }
            }
            (from, to)
        })
        .filter(|&(from, to)| from != to && map.get(&to).is_none_or(|&t| t == to))
        .collect();
    pairs.sort_unstable();
    pairs
}

fn record(map: &mut std::collections::HashMap<char, char>, c: char, converted: &str) {
    let mut it = converted.chars();
    if let (Some(to), None) = (it.next(), it.next()) {
        if to != c {
            map.insert(c, to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_equivalences() {
        let pairs: std::collections::HashMap<char, char> = variant_pairs().into_iter().collect();
        let canon = |c: char| *pairs.get(&c).unwrap_or(&c);
        for (a, b) in [
            ('総', '總'),
            ('総', '总'),
            ('銀', '银'),
            ('経', '经'),
            ('済', '济'),
            ('産', '产'),
            ('業', '业'),
            ('郵', '邮'),
            ('証', '证'),
            ('聯', '联'),
            ('務', '务'),
            ('電', '电'),
            ('機', '机'),
            ('売', '卖'),
            ('賣', '卖'),
        ] {
            assert_eq!(canon(a), canon(b), "{a} ≡ {b}");
        }
        for (from, to) in &pairs {
            assert_eq!(canon(*to), *to, "{from} → {to} is closed");
        }
        assert!(
            pairs.len() > 2500,
            "only {} variant pairs derived",
            pairs.len()
        );
    }
}
