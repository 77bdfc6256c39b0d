//! Contacts: e-mail and Jabber/XMPP addresses, Telegram handles (`@name`,
//! `t.me/name`, a `TG:`/`电报` label), QQ numbers and WeChat ids only where
//! a label names them (`QQ：`, `扣扣`, `微信`/`VX`/`wx`), and phone numbers in
//! international form. Every scan here is bounded by the longest valid
//! value, so hostile input costs linear time.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::{EntityKind, Found};

/// Longest local part of an address (RFC 5321).
const LOCAL_MAX: usize = 64;
/// Longest domain (RFC 1035).
const DOMAIN_MAX: usize = 253;
/// Longest Telegram username.
const HANDLE_MAX: usize = 32;

fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether the byte after a value continues it as a domain or an address
/// (`name.example`, `name@…`, `name-x`): then it was no handle or id.
fn continues(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        Some(b'@') => true,
        Some(b'.' | b'-') => b.get(end + 1).is_some_and(|c| c.is_ascii_alphanumeric()),
        Some(&c) => is_word(c),
        None => false,
    }
}

/// Hosts that only serve XMPP (the `jabber.`/`xmpp.` prefixes are matched
/// apart): an address on one is a Jabber id even without a label.
const XMPP_HOSTS: &[&str] = &[
    "exploit.im",
    "jabb.im",
    "yax.im",
    "creep.im",
    "thesecure.biz",
    "xmpp.jp",
    "jabber.ru",
    "jabber.de",
    "jabber.cz",
    "jabber.at",
    "404.city",
    "jabber.calyxinstitute.org",
];

/// An e-mail address or Jabber id around the `@` at `at`; otherwise a
/// Telegram handle after it.
pub(crate) fn at_sign(text: &str, at: usize, out: &mut Vec<Found>) {
    let b = text.as_bytes();
    if let Some((start, end)) = address_span(b, at) {
        let value = text[start..end].to_ascii_lowercase();
        let domain = &value[at + 1 - start..];
        let labelled = {
            let from = start.saturating_sub(24);
            let before = &b[from..start];
            let line = before
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(before, |i| &before[i + 1..]);
            let line = line.to_ascii_lowercase();
            [&b"jabber"[..], b"xmpp", b"jid"]
                .iter()
                .any(|l| line.windows(l.len()).any(|w| w == *l))
        };
        let xmpp_host = domain.starts_with("jabber.")
            || domain.starts_with("xmpp.")
            || XMPP_HOSTS.contains(&domain);
        let kind = if labelled || xmpp_host {
            EntityKind::Xmpp
        } else {
            EntityKind::Email
        };
        out.push(Found::new(kind, value, start, end));
        return;
    }
    // `@name`, alone or after a Telegram label (`TG@name`, `联系TG@name`).
    let before_ok = match at.checked_sub(1).map(|i| b[i]) {
        None => true,
        Some(c) if !is_local(c) => true,
        Some(_) => {
            let mut s = at;
            while s > 0 && at - s < 9 && b[s - 1].is_ascii_alphanumeric() {
                s -= 1;
            }
            let word = text[s..at].to_ascii_lowercase();
            matches!(word.as_str(), "tg" | "telegram") && (s == 0 || !is_local(b[s - 1]))
        }
    };
    if before_ok {
        if let Some(end) = handle_end(b, at + 1) {
            let value = format!("@{}", text[at + 1..end].to_ascii_lowercase());
            out.push(Found::new(EntityKind::Telegram, value, at, end));
        }
    }
}

/// The end of a Telegram username starting at `start`: 5 to 32 letters,
/// digits and underscores, starting with a letter, not ending with an
/// underscore, and not going on as a domain or address.
fn handle_end(b: &[u8], start: usize) -> Option<usize> {
    let mut end = start;
    while end < b.len() && is_word(b[end]) {
        end += 1;
        if end - start > HANDLE_MAX {
            return None;
        }
    }
    let name = &b[start..end];
    let ok = name.len() >= 5
        && name[0].is_ascii_alphabetic()
        && name.last() != Some(&b'_')
        && !continues(b, end);
    ok.then_some(end)
}

/// The span of `local@domain` around `at`, when the domain has at least two
/// labels and an alphabetic top-level one.
fn address_span(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut start = at;
    while start > 0 && is_local(b[start - 1]) {
        start -= 1;
        if at - start > LOCAL_MAX {
            return None;
        }
    }
    while start < at && matches!(b[start], b'.' | b'-' | b'+' | b'%') {
        start += 1;
    }
    if start == at || b[at - 1] == b'.' {
        return None;
    }
    let mut end = at + 1;
    while end < b.len() && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'.' | b'-')) {
        end += 1;
        if end - at > DOMAIN_MAX {
            return None;
        }
    }
    while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
        end -= 1;
    }
    if matches!(b.get(end), Some(b'_' | b'@')) {
        return None;
    }
    let domain = std::str::from_utf8(&b[at + 1..end]).ok()?;
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok =
        |l: &str| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-');
    let tld = labels.last()?;
    let ok = labels.len() >= 2
        && labels.iter().all(|l| label_ok(l))
        && tld.len() >= 2
        && tld.bytes().all(|c| c.is_ascii_alphabetic());
    ok.then_some((start, end))
}

/// Telegram links: `t.me/name` (and `t.me/s/name`, `telegram.me/…`) as
/// `@name`, invite links as `t.me/+hash`.
pub(crate) fn telegram_links(text: &str, out: &mut Vec<Found>) {
    /// Paths of t.me that are no user or channel.
    const RESERVED: &[&str] = &[
        "share",
        "addstickers",
        "proxy",
        "socks",
        "setlanguage",
        "addtheme",
        "login",
        "confirmphone",
        "addemoji",
        "iv",
        "contact",
    ];
    let b = text.as_bytes();
    for host in [&b"t.me/"[..], b"telegram.me/", b"telegram.dog/"] {
        for p in memchr::memmem::find_iter(b, host) {
            if p > 0 && (is_word(b[p - 1]) || b[p - 1] == b'-') {
                continue;
            }
            let mut path = p + host.len();
            if b[path..].starts_with(b"s/") {
                path += 2;
            }
            let invite = if b.get(path) == Some(&b'+') {
                Some(path + 1)
            } else if b[path..].starts_with(b"joinchat/") {
                Some(path + 9)
            } else {
                None
            };
            if let Some(hash_start) = invite {
                let mut end = hash_start;
                while end < b.len() && (is_word(b[end]) || b[end] == b'-') && end - hash_start <= 64
                {
                    end += 1;
                }
                if (8..=64).contains(&(end - hash_start))
                    && !b.get(end).is_some_and(|&c| is_word(c))
                {
                    let value = format!("t.me/+{}", &text[hash_start..end]);
                    out.push(Found::new(EntityKind::Telegram, value, p, end));
                }
                continue;
            }
            if let Some(end) = handle_end(b, path) {
                let name = text[path..end].to_ascii_lowercase();
                if !RESERVED.contains(&name.as_str()) {
                    out.push(Found::new(EntityKind::Telegram, format!("@{name}"), p, end));
                }
            }
        }
    }
}

/// What a label names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    Qq,
    WeChat,
    Telegram,
}

/// Labels as markets write them (matched without ASCII case).
const LABELS: &[(&str, Label)] = &[
    ("qq", Label::Qq),
    ("扣扣", Label::Qq),
    ("企鹅", Label::Qq),
    ("微信", Label::WeChat),
    ("vx", Label::WeChat),
    ("wx", Label::WeChat),
    ("weixin", Label::WeChat),
    ("wechat", Label::WeChat),
    ("v信", Label::WeChat),
    ("威信", Label::WeChat),
    ("薇信", Label::WeChat),
    ("tg", Label::Telegram),
    ("telegram", Label::Telegram),
    ("电报", Label::Telegram),
    ("纸飞机", Label::Telegram),
    ("飞机", Label::Telegram),
];

static LABEL_AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(LABELS.iter().map(|(p, _)| p))
        .expect("a handful of fixed literal patterns always build")
});

/// Values after a label: `QQ：12345678`, `扣扣 12345678`, `微信号: abc_123`,
/// `VX：abc123`, `TG: shop_name`.
pub(crate) fn labelled(text: &str, out: &mut Vec<Found>) {
    let b = text.as_bytes();
    for m in LABEL_AUTOMATON.find_iter(text) {
        let (pattern, label) = LABELS[m.pattern().as_usize()];
        let ascii = pattern.is_ascii();
        if ascii && m.start() > 0 && b[m.start() - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut i = m.end();
        for suffix in ["号码", "號碼", "号", "號"] {
            if text[i..].starts_with(suffix) {
                i += suffix.len();
                break;
            }
        }
        let after_label = i;
        while i < b.len() && i - after_label < 8 && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        if matches!(b.get(i), Some(b':' | b'=' | b'-')) {
            i += 1;
            while i < b.len() && i - after_label < 12 && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
        }
        let separated = i > m.end();
        if ascii && !separated && b.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        let start = i;
        let mut end = i;
        while end < b.len() && (is_word(b[end]) || b[end] == b'-') && end - start <= 32 {
            end += 1;
        }
        let value = &text[start..end];
        let digits = !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit());
        if continues(b, end) {
            continue;
        }
        let found = match label {
            Label::Qq => (digits && (5..=11).contains(&value.len()) && !value.starts_with('0'))
                .then(|| (EntityKind::Qq, value.to_owned())),
            Label::WeChat => {
                let id =
                    (6..=20).contains(&value.len()) && value.as_bytes()[0].is_ascii_alphabetic();
                let number = digits && (5..=15).contains(&value.len());
                (id || number).then(|| (EntityKind::Wechat, value.to_ascii_lowercase()))
            }
            Label::Telegram => handle_end(b, start).filter(|&e| e == end).map(|_| {
                (
                    EntityKind::Telegram,
                    format!("@{}", value.to_ascii_lowercase()),
                )
            }),
        };
        if let Some((kind, value)) = found {
            out.push(Found::new(kind, value, start, end));
        }
    }
}

/// A phone number in international form at the `+` at `at`: 8 to 15
/// digits (E.164), the first not 0, single separators (space, `-`, `.`,
/// brackets) between groups.
pub(crate) fn plus_sign(text: &str, at: usize, out: &mut Vec<Found>) {
    let b = text.as_bytes();
    if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'+') {
        return;
    }
    if !matches!(b.get(at + 1), Some(b'1'..=b'9')) {
        return;
    }
    let mut digits = String::with_capacity(16);
    let mut i = at + 1;
    let mut end = i;
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_digit() => {
                digits.push(*c as char);
                if digits.len() > 15 {
                    return;
                }
                i += 1;
                end = i;
            }
            Some(b' ' | b'-' | b'.' | b'(' | b')') => {
                // One or two separator characters (`) `), then a digit.
                let mut j = i + 1;
                if matches!(b.get(j), Some(b' ' | b'(')) {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    i = j;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    if digits.len() < 8 || b.get(end).is_some_and(|&c| is_word(c)) {
        return;
    }
    out.push(Found::new(EntityKind::Phone, format!("+{digits}"), at, end));
}
