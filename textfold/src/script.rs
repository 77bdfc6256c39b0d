//! Script classes of characters: which code points tokenise as CJK.
//! Pure lookups over code-point ranges; never allocates.

/// True for Han ideographs, kana and hangul: the characters that tokenise as CJK
/// (matched anywhere, indexed as n-grams) rather than as parts of space-separated words.
///
/// The kana prolonged sound mark `ー` and the iteration marks `々 〆 〇` count as CJK;
/// CJK punctuation (`、。「」`) does not.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF        // Hangul Jamo
        | 0x2E80..=0x2FDF      // CJK radicals, Kangxi radicals
        | 0x3005..=0x3007      // 々 〆 〇
        | 0x3021..=0x3029      // Hangzhou numerals
        | 0x3031..=0x3035      // kana repeat marks
        | 0x3038..=0x303C      // 〸〹〺〻〼
        | 0x3041..=0x309F      // Hiragana (with voicing marks and ゝゞゟ)
        | 0x30A0..=0x30FA      // Katakana
        | 0x30FC..=0x30FF      // ー ヽ ヾ ヿ (not the middle dot ・)
        | 0x3130..=0x318F      // Hangul compatibility jamo
        | 0x31F0..=0x31FF      // Katakana phonetic extensions
        | 0x3400..=0x4DBF      // CJK Extension A
        | 0x4E00..=0x9FFF      // CJK Unified Ideographs
        | 0xA960..=0xA97F      // Hangul Jamo Extended-A
        | 0xAC00..=0xD7FF      // Hangul syllables, Jamo Extended-B
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFF66..=0xFF9F      // half-width katakana
        | 0xFFA1..=0xFFDC      // half-width hangul
        | 0x1B000..=0x1B16F    // kana supplement / extended
        | 0x20000..=0x323AF    // CJK Extensions B–H, compatibility supplement
    )
}

/// True for hiragana and katakana letters (including the prolonged sound mark).
pub fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3041..=0x309F | 0x30A0..=0x30FA | 0x30FC..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F | 0x1B000..=0x1B16F)
}

/// True for Han ideographs (unified, extensions, compatibility, iteration marks).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3005..=0x3007 | 0x3021..=0x3029 | 0x3038..=0x303B
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x323AF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for c in ['三', '菱', 'ゆ', 'ヤ', 'ー', 'ｽ', '한', '々', '𠀋'] {
            assert!(is_cjk(c), "{c} is CJK");
        }
        for c in ['a', 'Z', '1', '、', '。', '・', '「', ' ', 'я', 'é'] {
            assert!(!is_cjk(c), "{c} is not CJK");
        }
        assert!(is_kana('ヤ') && is_kana('ゆ') && !is_kana('三'));
        assert!(is_han('三') && !is_han('ゆ'));
    }
}
