//! The console's words in English and Japanese, and which one a request
//! gets: the `lang` cookie (set by the switch), else the first language of
//! `Accept-Language` we have, else English.

use axum::http::{header, HeaderMap};

use crate::console::auth::cookie;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Ja,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The other language (the switch's target).
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ja,
            Lang::Ja => Lang::En,
        }
    }
}

/// The cookie the language switch sets.
pub(crate) const LANG_COOKIE: &str = "lw_lang";

/// The request's language.
pub(crate) fn negotiate(headers: &HeaderMap) -> Lang {
    if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return lang;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    from_accept_language(accept)
}

/// The best of our languages for an `Accept-Language` value.
pub(crate) fn from_accept_language(accept: &str) -> Lang {
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',') {
        let mut bits = part.split(';');
        let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .find_map(|b| {
                b.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        if let Some(lang) = Lang::parse(primary) {
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

/// Every word the pages use.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Msg {
    Title,
    Alerts,
    Search,
    Sites,
    Watchlists,
    Logout,
    LoginTitle,
    LoginHelp,
    Token,
    LogIn,
    LoginFailed,
    TooManyAttempts,
    Status,
    Severity,
    Site,
    Asset,
    Customer,
    Text,
    Filter,
    All,
    FirstSeen,
    LastSeen,
    NoAlerts,
    Next,
    Bulk,
    Apply,
    Note,
    Price,
    Seller,
    Posted,
    Fetched,
    Url,
    UrlHelp,
    Terms,
    Cues,
    AlsoSeenAt,
    Deliveries,
    History,
    Triage,
    Document,
    NotIndexed,
    Matches,
    Language,
    Kind,
    Month,
    Query,
    LastSuccess,
    Pages24h,
    Failing,
    Breaker,
    LoggedOut,
    State,
    Failures24h,
    Evidence,
    EvidenceBundle,
    ImportSession,
    StateOk,
    StateBackingOff,
    StateBroken,
    StateNeedsHuman,
    StateLoggedOut,
    File,
    Valid,
    Errors,
    NotFound,
    ViewerOnly,
    Switch,
    Yes,
    No,
}

/// `msg` in `lang`.
pub(crate) fn t(lang: Lang, msg: Msg) -> &'static str {
    let (en, ja) = match msg {
        Msg::Title => ("leakwatch console", "leakwatch コンソール"),
        Msg::Alerts => ("Alerts", "アラート"),
        Msg::Search => ("Search", "検索"),
        Msg::Sites => ("Sites", "サイト"),
        Msg::Watchlists => ("Watchlists", "ウォッチリスト"),
        Msg::Logout => ("Log out", "ログアウト"),
        Msg::LoginTitle => ("Log in", "ログイン"),
        Msg::LoginHelp => (
            "Paste the token you were given (lw_…). It is exchanged for a session; it is not kept in the browser.",
            "発行されたトークン（lw_…）を貼り付けてください。セッションに交換され、ブラウザには保存されません。",
        ),
        Msg::Token => ("Token", "トークン"),
        Msg::LogIn => ("Log in", "ログイン"),
        Msg::LoginFailed => (
            "That token is unknown, expired or revoked.",
            "このトークンは無効、期限切れ、または失効しています。",
        ),
        Msg::TooManyAttempts => (
            "Too many failed attempts from this address; wait five minutes.",
            "このアドレスからの失敗が多すぎます。5分後に再試行してください。",
        ),
        Msg::Status => ("Status", "ステータス"),
        Msg::Severity => ("Severity", "重大度"),
        Msg::Site => ("Site", "サイト"),
        Msg::Asset => ("Asset", "資産"),
        Msg::Customer => ("Customer", "顧客"),
        Msg::Text => ("Text", "テキスト"),
        Msg::Filter => ("Filter", "絞り込み"),
        Msg::All => ("all", "すべて"),
        Msg::FirstSeen => ("First seen", "初回検知"),
        Msg::LastSeen => ("Last seen", "最終検知"),
        Msg::NoAlerts => ("No alerts match.", "該当するアラートはありません。"),
        Msg::Next => ("Next page", "次のページ"),
        Msg::Bulk => ("Selected alerts", "選択したアラート"),
        Msg::Apply => ("Apply", "適用"),
        Msg::Note => ("Note", "メモ"),
        Msg::Price => ("Price", "価格"),
        Msg::Seller => ("Seller", "出品者"),
        Msg::Posted => ("Posted", "投稿日時"),
        Msg::Fetched => ("Fetched", "取得日時"),
        Msg::Url => ("Address", "アドレス"),
        Msg::UrlHelp => (
            "Crawled addresses are shown as text to copy: never open them from this browser.",
            "収集元のアドレスはコピー用のテキストです。このブラウザでは開かないでください。",
        ),
        Msg::Terms => ("Matched terms", "一致した語"),
        Msg::Cues => ("Sale cues", "販売の手がかり"),
        Msg::AlsoSeenAt => ("Also seen at", "他の掲載先"),
        Msg::Deliveries => ("Deliveries", "配信"),
        Msg::History => ("History", "履歴"),
        Msg::Triage => ("Triage", "トリアージ"),
        Msg::Document => ("Listing", "掲載内容"),
        Msg::NotIndexed => ("The listing is not in the index.", "掲載内容はインデックスにありません。"),
        Msg::Matches => ("matches", "件"),
        Msg::Language => ("Language", "言語"),
        Msg::Kind => ("Kind", "種類"),
        Msg::Month => ("Month", "月"),
        Msg::Query => ("Query", "検索語"),
        Msg::LastSuccess => ("Last success", "最終成功"),
        Msg::Pages24h => ("Pages (24 h)", "ページ数（24時間）"),
        Msg::Failing => ("Failing URLs", "失敗中のURL"),
        Msg::Breaker => ("Circuit breaker", "サーキットブレーカー"),
        Msg::LoggedOut => ("Logged out", "ログアウト状態"),
        Msg::State => ("State", "状態"),
        Msg::Evidence => ("Evidence", "証拠"),
        Msg::ImportSession => ("Import the session", "セッションを取り込む"),
        Msg::EvidenceBundle => (
            "The page as received, with its text and a SHA-256 manifest (ZIP)",
            "受信したままのページ・本文・SHA-256 マニフェスト（ZIP）",
        ),
        Msg::Failures24h => ("Failures (24 h)", "失敗数（24時間）"),
        Msg::StateOk => ("ok", "正常"),
        Msg::StateBackingOff => ("backing off", "休止中（障害）"),
        Msg::StateBroken => ("broken", "停止（取得不能）"),
        Msg::StateNeedsHuman => ("needs a human", "要対応（CAPTCHA・ログイン）"),
        Msg::StateLoggedOut => ("logged out", "ログアウト"),
        Msg::File => ("File", "ファイル"),
        Msg::Valid => ("Valid", "有効"),
        Msg::Errors => ("Errors", "エラー"),
        Msg::NotFound => ("Not found.", "見つかりません。"),
        Msg::ViewerOnly => (
            "This token can read but not triage.",
            "このトークンは閲覧のみ可能で、トリアージはできません。",
        ),
        Msg::Switch => ("日本語", "English"),
        Msg::Yes => ("yes", "はい"),
        Msg::No => ("no", "いいえ"),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// A status's name in `lang`.
pub(crate) fn status_name(lang: Lang, status: &str) -> &str {
    let (en, ja) = match status {
        "new" => ("New", "新規"),
        "delivered" => ("Delivered", "配信済み"),
        "acknowledged" => ("Acknowledged", "確認済み"),
        "investigating" => ("Investigating", "調査中"),
        "resolved" => ("Resolved (true positive)", "解決（真陽性）"),
        "false_positive" => ("False positive", "誤検知"),
        other => (other, other),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(from_accept_language("ja-JP,ja;q=0.9,en;q=0.8"), Lang::Ja);
        assert_eq!(from_accept_language("en-US,en;q=0.9,ja;q=0.8"), Lang::En);
        assert_eq!(from_accept_language("fr, ja;q=0.5"), Lang::Ja);
        assert_eq!(from_accept_language(""), Lang::En);
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "ja".parse().expect("header"));
        h.insert(header::COOKIE, "lw_lang=en".parse().expect("header"));
        assert_eq!(negotiate(&h), Lang::En, "the switch wins");
    }
}
