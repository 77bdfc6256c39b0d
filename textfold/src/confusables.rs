//! Look-alike letters from other scripts (Cyrillic, Greek, Armenian, Cherokee, …)
//! folded to the ASCII letter or digit they imitate, per Unicode's confusables
//! (UTS #39 skeletons). Never touches CJK, kana or hangul: 工 is not エ.

use unicode_security::skeleton;

/// Scripts and blocks searched for look-alikes of ASCII letters and digits.
const RANGES: [(u32, u32); 16] = [
    (0x00C0, 0x02AF),   // Latin-1 supplement letters, Latin extended A/B, IPA
    (0x0370, 0x03FF),   // Greek and Coptic
    (0x0400, 0x052F),   // Cyrillic and supplement
    (0x0530, 0x058F),   // Armenian
    (0x10A0, 0x10FF),   // Georgian
    (0x13A0, 0x13FF),   // Cherokee
    (0x1D00, 0x1DBF),   // phonetic extensions (small capitals)
    (0x1E00, 0x1FFF),   // Latin extended additional, Greek extended
    (0x2100, 0x214F),   // letterlike symbols
    (0x2C00, 0x2DFF),   // Glagolitic, Latin extended C, Coptic
    (0xA4D0, 0xA4FF),   // Lisu
    (0xA640, 0xA69F),   // Cyrillic extended B
    (0xA720, 0xA7FF),   // Latin extended D
    (0xAB30, 0xABBF),   // Latin extended E, Cherokee supplement
    (0x10400, 0x1044F), // Deseret
    (0x10480, 0x104FF), // Osmanya, Osage
];

/// `(from, to)` pairs: a non-ASCII letter and the ASCII letter or digit it imitates,
/// choosing the candidate of the same case (Cyrillic `І` → `I`, `і` → `i`; Greek `Ν` → `N`,
/// while lower-case `ν` imitates `v`).
pub(crate) fn latin_lookalikes() -> Vec<(char, char)> {
    // Skeletons of ASCII alphanumerics: several ASCII characters share one
    // prototype (I, l and 1 all have skeleton "l"; O and 0 have "O").
    let ascii: Vec<(char, String)> = ('0'..='9')
        .chain('A'..='Z')
        .chain('a'..='z')
        .map(|a| (a, skeleton(a.encode_utf8(&mut [0; 4])).collect()))
        .collect();
    let mut pairs = Vec::new();
    for &(lo, hi) in &RANGES {
        for c in (lo..=hi).filter_map(char::from_u32) {
            if !c.is_alphabetic() {
                continue;
            }
            let skel: String = skeleton(c.encode_utf8(&mut [0; 4])).collect();
            let candidates: Vec<char> = ascii
                .iter()
                .filter(|(_, s)| *s == skel)
                .map(|&(a, _)| a)
                .collect();
            let same_case = |a: &char| {
                if c.is_uppercase() {
                    a.is_ascii_uppercase()
                } else if c.is_lowercase() {
                    a.is_ascii_lowercase()
                } else {
                    a.is_ascii_alphabetic()
                }
            };
            let pick = candidates
                .iter()
                .find(|a| same_case(a))
                .or_else(|| candidates.iter().find(|a| a.is_ascii_alphabetic()))
                .or_else(|| candidates.first());
            if let Some(&to) = pick {
                pairs.push((c, to));
            }
        }
    }
    // Keep case pairs together: a lower-case letter with no look-alike of its own takes
    // its capital's (Cyrillic к looks like nothing Latin, but К is K, so к → k and
    // "Куплю" ≡ "куплю"). Letters with their own look-alike keep it (Greek ν → v).
    let own: std::collections::HashMap<char, char> = pairs.iter().copied().collect();
    let mut from_capital = Vec::new();
    for &(lo, hi) in &RANGES {
        for c in (lo..=hi).filter_map(char::from_u32) {
            if !c.is_lowercase() || own.contains_key(&c) {
                continue;
            }
            let mut up = c.to_uppercase();
            if let (Some(u), None) = (up.next(), up.next()) {
                if let Some(&latin) = own.get(&u) {
                    from_capital.push((c, latin.to_ascii_lowercase()));
                }
            }
        }
    }
    pairs.extend(from_capital);
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_and_greek_fold_case_sensitively() {
        let map: std::collections::HashMap<char, char> = latin_lookalikes().into_iter().collect();
        for (from, to) in [
            ('М', 'M'),
            ('А', 'A'),
            ('а', 'a'),
            ('о', 'o'),
            ('р', 'p'),
            ('с', 'c'),
            ('е', 'e'),
            ('Ν', 'N'),
            ('ν', 'v'),
            ('Ο', 'O'),
            ('І', 'I'),
            ('і', 'i'),
        ] {
            assert_eq!(map.get(&from), Some(&to), "{from} → {to}");
        }
        assert!(!map.contains_key(&'я'), "я has no Latin look-alike");
        assert_eq!(map.get(&'к'), Some(&'k'), "к follows its capital К → K");
        assert_eq!(map.get(&'т'), Some(&'t'), "т follows its capital Т → T");
        assert!(
            !map.contains_key(&'é'),
            "accented Latin letters are not look-alikes"
        );
    }
}
