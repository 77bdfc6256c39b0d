//! Pages that stand in front of the content: a CAPTCHA, an anti-bot or
//! DDoS-guard queue, a login form, a shell whose list is rendered by
//! script. Such a page yields no documents (its text is not a listing), and
//! the reason is said in `--explain`. Decided on what the page shows: the
//! wall's markup or words on a page with little else.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};

use crate::text::element_text;

/// Markup of CAPTCHA widgets and challenge forms.
static CAPTCHA: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(
        "[id*=captcha i], [class*=captcha i], [name*=captcha i], img[src*=captcha i], \
         .g-recaptcha, .h-captcha, .cf-turnstile, #challenge-form, #cf-challenge-running, \
         [data-sitekey]",
    )
    .expect("valid")
});
static PASSWORD: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("input[type=password i]").expect("valid"));
static BODY: LazyLock<Selector> = LazyLock::new(|| Selector::parse("body").expect("valid"));
static SCRIPT: LazyLock<Selector> = LazyLock::new(|| Selector::parse("script").expect("valid"));
static LINKS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a[href]").expect("valid"));

/// Words of anti-bot queues and challenges.
static ANTI_BOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(checking your browser|ddos[- ]?(guard|protection)|just a moment|attention required|verify (that )?you are (a )?human|are you a robot|enable javascript and cookies|please wait while we|you are in (the )?queue|请稍候|正在检查|人机验证|安全验证|请完成验证|ボットではない|ロボットではありません|проверка браузера|подождите)")
        .expect("valid")
});
/// Words that ask for script to be turned on.
static NEEDS_SCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(enable javascript|javascript is (disabled|required)|requires javascript|请启用|请开启javascript|javascriptを有効|включите javascript)")
        .expect("valid")
});

/// A page with less visible text than this, beside a wall's markup, is the
/// wall and nothing else.
const SMALL_PAGE: usize = 1500;

/// What stands in front of a page's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wall {
    /// An image or widget CAPTCHA, or a challenge form.
    Captcha,
    /// An anti-bot check or a DDoS-guard queue ("checking your browser",
    /// "you are in the queue").
    AntiBot,
    /// A login form on a page with little else.
    Login,
    /// An empty shell whose content a script would render.
    ScriptOnly,
}

impl Wall {
    /// What the page is, in a few words (`--explain`, logs, `sites`).
    pub fn reason(self) -> &'static str {
        match self {
            Wall::Captcha => "a CAPTCHA page",
            Wall::AntiBot => "an anti-bot or DDoS-guard page",
            Wall::Login => "a login page",
            Wall::ScriptOnly => "a page whose content is rendered by JavaScript",
        }
    }

    /// Whether only a person can get past it (solve the CAPTCHA, wait in
    /// the queue in a browser, log in): a crawler that keeps asking is only
    /// hammering. A script-only page is a profile matter, not a person's.
    pub fn needs_human(self) -> bool {
        matches!(self, Wall::Captcha | Wall::AntiBot | Wall::Login)
    }
}

impl std::fmt::Display for Wall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

/// What walls the page off, or `None` when it shows content.
pub fn wall(page: &Html) -> Option<Wall> {
    let body = page.select(&BODY).next()?;
    let text = element_text(body, None);
    let chars = text.chars().count();
    let links = body.select(&LINKS).count();
    if chars < SMALL_PAGE && page.select(&CAPTCHA).next().is_some() {
        return Some(Wall::Captcha);
    }
    if chars < SMALL_PAGE && ANTI_BOT.is_match(&text) {
        return Some(Wall::AntiBot);
    }
    if chars < SMALL_PAGE && links < 15 && page.select(&PASSWORD).next().is_some() {
        return Some(Wall::Login);
    }
    let scripts = page.select(&SCRIPT).count();
    if chars < 200 && scripts > 0 && (links < 5 || NEEDS_SCRIPT.is_match(&text)) {
        return Some(Wall::ScriptOnly);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(html: &str) -> Option<&'static str> {
        wall(&Html::parse_document(html)).map(Wall::reason)
    }

    #[test]
    fn walls_are_recognised() {
        assert_eq!(
            reason("<body><form><img src='/captcha.php?r=1'><input name=captcha_code><button>进入</button></form></body>"),
            Some("a CAPTCHA page")
        );
        assert_eq!(
            reason("<body><h1>Checking your browser before accessing x.onion</h1><p>DDoS protection by DDoS-Guard</p></body>"),
            Some("an anti-bot or DDoS-guard page")
        );
        assert_eq!(
            reason("<body><form action='ucp.php?mode=login'><input name=username><input type=password name=password><input type=submit value=Login></form></body>"),
            Some("a login page")
        );
        assert_eq!(
            reason("<body><noscript>You need to enable JavaScript to run this app.</noscript><div id=root></div><script src=/static/main.js></script></body>"),
            Some("a page whose content is rendered by JavaScript")
        );
    }

    #[test]
    fn content_pages_are_not_walls() {
        let mut list = String::from("<body><form action=login><input type=password></form><table>");
        for i in 0..60 {
            list.push_str(&format!(
                "<tr><td><a href='/t/{i}'>A listing with a long enough title number {i}</a></td><td>seller{i}</td></tr>"
            ));
        }
        list.push_str("</table></body>");
        assert_eq!(reason(&list), None);
        let captcha = wall(&Html::parse_document(
            "<body><div class=g-recaptcha data-sitekey=x></div></body>",
        ));
        assert!(captcha.is_some_and(Wall::needs_human));
        let shell = wall(&Html::parse_document(
            "<body><div id=app></div><script src=/a.js></script></body>",
        ));
        assert_eq!(shell, Some(Wall::ScriptOnly));
        assert!(!Wall::ScriptOnly.needs_human());
        assert_eq!(
            reason("<body><p>A short page about nothing.</p></body>"),
            None
        );
    }
}
