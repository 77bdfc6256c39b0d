//! Near-duplicate detection for reposted listings: a 64-bit SimHash over
//! character 3-grams of the folded text, so the same offer copied to another
//! site (new spacing, width, script variant) lands within a few bits.

/// Hashes at most this many bytes of text (a listing's opening is what is copied).
const MAX_BYTES: usize = 8 * 1024;

/// Bits two SimHashes may differ in and still be the same listing.
pub(crate) const SAME_LISTING_BITS: u32 = 6;

/// SimHash of `text` (0 for text too short to compare).
pub(crate) fn simhash(text: &str) -> u64 {
    let folded = textfold::fold_str(text);
    let chars: Vec<char> = folded
        .chars()
        .filter(|c| c.is_alphanumeric())
        .take(MAX_BYTES)
        .collect();
    if chars.len() < 8 {
        return 0;
    }
    let mut weights = [0i32; 64];
    for gram in chars.windows(3) {
        let h = fnv1a(gram);
        for (bit, w) in weights.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *w += 1;
            } else {
                *w -= 1;
            }
        }
    }
    weights
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit)
}

/// Whether two hashes are of the same listing.
pub(crate) fn same_listing(a: u64, b: u64) -> bool {
    a != 0 && b != 0 && (a ^ b).count_ones() <= SAME_LISTING_BITS
}

fn fnv1a(chars: &[char]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in chars {
        for b in (*c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "【出售】日本三菱日联银行网银账户 带登录密码+密保，可转账，USDT 150/个，量大从优，包售后。联系方式见签名。";

    #[test]
    fn a_repost_is_the_same_listing() {
        let repost = "【出售】日本三菱日聯銀行網銀賬戶  帶登錄密碼+密保，可轉賬，ＵＳＤＴ 150/個，量大從優，包售後。聯系方式見簽名。";
        assert!(same_listing(simhash(OFFER), simhash(repost)));
    }

    #[test]
    fn a_different_offer_is_not() {
        let other =
            "收日本雅虎账号 yahoo.co.jp 老号，带邮箱，批量收，价格好谈，长期有效，先到先得。";
        assert!(!same_listing(simhash(OFFER), simhash(other)));
        assert_eq!(simhash("短"), 0);
        assert!(!same_listing(0, 0));
    }
}
