//! The fields of a list row: which column holds what, by the header's text
//! in Chinese, Japanese, English, Russian and a few European languages
//! (发布时间 / Date / Дата → posted_at, 发布人 / Author / Автор → seller, …),
//! and, where the page has no header, by what the cells hold (a profile
//! link, a date, a price with its currency, a labelled reply count).

use std::sync::LazyLock;

use regex::Regex;

/// A field a list column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The listing's title (its link).
    Title,
    /// When the listing was posted.
    PostedAt,
    /// Who posts it.
    Seller,
    /// Its price.
    Price,
    /// How many replies it has.
    Replies,
    /// How often it was viewed.
    Views,
    /// Its category.
    Category,
    /// The last reply's time and poster: never the listing's own date or
    /// seller.
    LastPost,
}

impl Field {
    /// The document field's name (`posted_at`, `seller`, …).
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::PostedAt => "posted_at",
            Field::Seller => "seller",
            Field::Price => "price",
            Field::Replies => "replies",
            Field::Views => "views",
            Field::Category => "category",
            Field::LastPost => "last post",
        }
    }
}

/// How one field of the rows was found, for `--explain` and `site doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnField {
    /// The field.
    pub field: Field,
    /// `column 2 (header "发布时间")`, or `cell content (a date)`.
    pub how: String,
}

/// Header words, lower case, by field. A header cell names the field whose
/// word starts earliest in its text (`回复/查看` → replies); a tie goes to
/// the longer word (`Started by` is the author, not a date).
const HEADER_WORDS: &[(Field, &[&str])] = &[
    (
        Field::LastPost,
        &[
            "最后发表",
            "最後發表",
            "最后回复",
            "最後回覆",
            "最新回复",
            "last post",
            "lastpost",
            "last reply",
            "latest post",
            "последнее",
            "последний ответ",
            "最終投稿",
            "最終更新",
            "dernier message",
            "letzter beitrag",
            "último mensaje",
            "ultimo messaggio",
        ],
    ),
    (
        Field::PostedAt,
        &[
            "发布时间",
            "发帖时间",
            "发表时间",
            "时间",
            "日期",
            "發佈時間",
            "發表時間",
            "時間",
            "date",
            "posted",
            "post date",
            "created",
            "started",
            "дата",
            "создан",
            "投稿日",
            "日時",
            "登録日",
            "掲載日",
            "date de publication",
            "datum",
            "fecha",
        ],
    ),
    (
        Field::Seller,
        &[
            "发布人",
            "发帖人",
            "发布者",
            "卖家",
            "商家",
            "作者",
            "发起人",
            "楼主",
            "發佈人",
            "賣家",
            "author",
            "seller",
            "vendor",
            "started by",
            "poster",
            "posted by",
            "user",
            "автор",
            "продавец",
            "投稿者",
            "出品者",
            "販売者",
            "auteur",
            "verkäufer",
            "autor",
            "vendedor",
        ],
    ),
    (
        Field::Price,
        &[
            "标价", "价格", "单价", "售价", "價格", "單價", "售價", "price", "цена", "価格",
            "金額", "値段", "prix", "preis", "precio", "prezzo", "cost",
        ],
    ),
    (
        Field::Replies,
        &[
            "回复",
            "回帖",
            "回覆",
            "回應",
            "replies",
            "reply",
            "ответы",
            "ответов",
            "返信",
            "réponses",
            "antworten",
            "respuestas",
            "risposte",
            "comments",
        ],
    ),
    (
        Field::Views,
        &[
            "查看",
            "浏览",
            "点击",
            "人气",
            "瀏覽",
            "views",
            "просмотры",
            "閲覧",
            "vues",
            "aufrufe",
            "visitas",
        ],
    ),
    (
        Field::Category,
        &[
            "分类",
            "类别",
            "分類",
            "類別",
            "category",
            "категория",
            "カテゴリ",
            "catégorie",
            "kategorie",
            "categoría",
        ],
    ),
    (
        Field::Title,
        &[
            "标题",
            "主题",
            "内容",
            "商品",
            "主題",
            "標題",
            "subject",
            "title",
            "topic",
            "thread",
            "тема",
            "заголовок",
            "タイトル",
            "件名",
            "スレッド",
            "sujet",
            "betreff",
            "tema",
            "titolo",
            "listing",
            "item",
            "product",
        ],
    ),
];

/// The field a header cell's text names, if any. Long texts are not headers.
pub(crate) fn header_field(text: &str) -> Option<Field> {
    let text = text.trim().to_lowercase();
    // Headers are short words; a cell with a number in it is data.
    if text.is_empty() || text.chars().count() > 24 || text.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut best: Option<(usize, usize, Field)> = None;
    for (field, words) in HEADER_WORDS {
        for word in *words {
            let Some(at) = text.find(word) else {
                continue;
            };
            // A Latin word must stand alone (`data` is not in `update`).
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            let latin = word.is_ascii();
            if latin
                && (before.is_some_and(char::is_alphanumeric)
                    || after.is_some_and(char::is_alphanumeric))
            {
                continue;
            }
            let better = match best {
                None => true,
                Some((a, len, _)) => at < a || (at == a && word.len() > len),
            };
            if better {
                best = Some((at, word.len(), *field));
            }
        }
    }
    best.map(|(_, _, f)| f)
}

/// Class or id words of the last-post part of a row.
pub(crate) static LAST_POST_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)last[-_ ]?(post|reply|poster|act)|lastpost|latest").expect("valid")
});

/// Profile links of the common engines and markets.
pub(crate) static PROFILE_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(memberlist\.php\?mode=viewprofile|member\.php\?(?:[^#]*&)?(?:action=profile|u=)|/members?/|space-uid-|space\.php\?|home\.php\?mod=space|[?&;]uid=\d|[?&;]u=\d|action=profile|/users?/|/profile|/vendor/|/seller/|(?:^|/)User-[^/?#]+$|/u/[^/?#]+/?$|profile\.php)")
        .expect("valid")
});

/// Class words of author and seller elements.
pub(crate) static SELLERISH_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(author|seller|vendor|username|poster|starter|user-?name)").expect("valid")
});

/// A price as list rows show it: a currency sign or code next to a number.
pub(crate) static PRICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?:[$€£¥￥₽]|usd|usdt|btc|xmr)\s*\d[\d,]*(?:\.\d+)?\s*[kw万]?|\d[\d,]*(?:\.\d+)?\s*[kw万]?\s*(?:\[\s*)?(?:btc|xmr|eth|ltc|usdt|usd|eur|rmb|cny|jpy|rub|美元|美金|元|円|руб\.?|[$€£₽])(?:\s*\])?)")
        .expect("valid")
});

/// A reply count with its word, either order.
pub(crate) static REPLIES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^\d.,])(\d[\d,.]*[kK]?)[ \t]*(?:replies|reply|réponses?|antworten|respuestas|risposte|ответ\w*|回复|回帖|回覆|返信|comments?)|(?:replies|回复|回帖|回覆|ответов|返信)\s*[:：]?\s*(\d[\d,]*)")
        .expect("valid")
});

/// Text that looks like a date or time as list rows print them, any language.
static DATEISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.,\s]+\d{2,4}|\d{1,2}:\d{2}|\bago\b|前$|昨天|今天|前天|昨日|今日|today|yesterday|назад|сегодня|вчера|\b\d{1,2}\.?\s+[a-zа-яéû]{3,}\.?\s+\d{4}|\b[a-z]{3,9}\.?\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4})")
        .expect("valid")
});

/// Whether a short text looks like a date.
pub(crate) fn looks_like_date(text: &str) -> bool {
    text.chars().count() <= 48 && DATEISH.is_match(text)
}

/// The first whole number in a text (`1,281,648`, `12`), as shown.
pub(crate) fn first_count(text: &str) -> Option<String> {
    static COUNT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\d[\d,.]*[kKmM]?").expect("valid"));
    COUNT
        .find(text)
        .map(|m| m.as_str().trim_end_matches([',', '.']).to_owned())
}

/// A seller's name as a cell shows it, without `by`/`par`/`作者:` around it.
pub(crate) fn clean_name(text: &str) -> Option<String> {
    let t = strip_label(text);
    let n = t.chars().count();
    (n > 0 && n <= 40 && !t.contains('\n')).then(|| t.to_owned())
}

/// A name without the label a page prints before it (`by `, `作者：`,
/// `Vendor:`), trimmed; the text itself when it is only a label.
pub(crate) fn without_label(text: &str) -> &str {
    match strip_label(text) {
        "" => text.trim(),
        rest => rest,
    }
}

/// `text` trimmed and without a leading label; empty when it is only one.
/// A label is a word such as `by` followed by a space, or a field name such
/// as `Seller`/`作者` followed by a colon (either width), in any letter case.
fn strip_label(text: &str) -> &str {
    // Words that precede a name with a space.
    const BY: [&str; 7] = ["posted by", "started by", "by", "par", "von", "por", "от"];
    // Field names that precede a name with a colon.
    const FIELD: [&str; 19] = [
        "author",
        "seller",
        "vendor",
        "poster",
        "автор",
        "продавец",
        "作者",
        "发布人",
        "發佈人",
        "发布者",
        "發佈者",
        "发帖人",
        "卖家",
        "賣家",
        "商家",
        "投稿者",
        "出品者",
        "販売者",
        "売り手",
    ];
    let t = text.trim();
    for field in FIELD {
        if let Some(rest) = strip_prefix_fold(t, field) {
            if let Some(name) = rest.trim_start().strip_prefix([':', '：']) {
                return name.trim();
            }
        }
    }
    for word in BY {
        if let Some(rest) = strip_prefix_fold(t, word) {
            if rest.starts_with(char::is_whitespace) {
                return rest.trim();
            }
        }
    }
    t
}

/// `text` after `prefix`, compared without letter case.
fn strip_prefix_fold<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let mut rest = text.char_indices();
    for p in prefix.chars() {
        let (_, c) = rest.next()?;
        if !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
    }
    Some(rest.next().map_or("", |(i, _)| &text[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_many_languages() {
        for (text, field) in [
            ("发布时间", Field::PostedAt),
            ("发布人", Field::Seller),
            ("标价", Field::Price),
            ("回复/查看", Field::Replies),
            ("Replies", Field::Replies),
            ("Started by", Field::Seller),
            ("Last post ▼", Field::LastPost),
            ("Дата", Field::PostedAt),
            ("Автор", Field::Seller),
            ("Цена", Field::Price),
            ("投稿者", Field::Seller),
            ("Subject", Field::Title),
            ("内容", Field::Title),
            ("分类", Field::Category),
            ("Views", Field::Views),
        ] {
            assert_eq!(header_field(text), Some(field), "{text}");
        }
        for text in [
            "",
            "ID",
            "操作",
            "Price: 150 USD",
            "3 replies",
            "update",
            "a very long sentence that is not a header at all",
        ] {
            assert_eq!(header_field(text), None, "{text}");
        }
    }

    #[test]
    fn seller_labels_are_dropped_in_any_case_and_colon_width() {
        for (text, name) in [
            ("by kuroneko", "kuroneko"),
            ("BY kuroneko", "kuroneko"),
            ("Posted by kuroneko", "kuroneko"),
            ("作者：何一妹妹", "何一妹妹"),
            ("出品者: 山田", "山田"),
            ("販売者：bank_seller", "bank_seller"),
            ("SELLER : zhanghu88", "zhanghu88"),
            ("Продавец: ivan", "ivan"),
            ("  Vendor:x ", "x"),
            ("作者", "作者"),
            ("bypass", "bypass"),
            ("Authority", "Authority"),
        ] {
            assert_eq!(without_label(text), name, "{text}");
        }
        assert_eq!(clean_name("作者："), None);
    }

    #[test]
    fn cell_contents() {
        assert!(looks_like_date("2020-09-01 13:59"));
        assert!(looks_like_date("Mar 07 Juil 2015, 11:12"));
        assert!(looks_like_date("September 07, 2017 at 03:17 PM"));
        assert!(looks_like_date("3 days ago"));
        assert!(!looks_like_date("587826"));
        assert_eq!(first_count(" 1,281,648 "), Some("1,281,648".into()));
        assert_eq!(clean_name("by Djinne"), Some("Djinne".into()));
        assert_eq!(clean_name(""), None);
        assert!(PROFILE_LINK.is_match("https://raidforums.com/User-Djinne"));
        assert!(PROFILE_LINK.is_match("space.php?uid=12"));
        assert!(!PROFILE_LINK.is_match("Thread-User-Data-Dump"));
        let c = REPLIES.captures("16 Réponses").expect("a count");
        assert_eq!(c.get(1).map(|m| m.as_str()), Some("16"));
        let c = REPLIES.captures("返信 3件").expect("a count");
        assert_eq!(c.get(2).map(|m| m.as_str()), Some("3"));
    }
}
