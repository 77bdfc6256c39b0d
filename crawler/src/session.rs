//! Sessions for login-gated forums: the cookies a profile supplies (lines in
//! the profile or a Netscape cookie file) and the signs of a logged-out page.
//! Cookie values are held in [`Secret`]s: they never reach a log or `Debug`.

use std::fmt;
use std::path::Path;

use regex::Regex;
use reqwest::cookie::Jar;
use scraper::{Html, Selector};
use siphasher::sip128::{Hasher128, SipHasher13};
use url::Url;

use crate::error::ProfileError;

/// A value that must not be logged (cookie values, header values).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` so that it never shows in a log or `Debug` output.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One cookie to send to the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    /// Domain from a cookie file (`None`: the site's host).
    pub domain: Option<String>,
    /// Whether the cookie is also sent to the domain's subdomains (a cookie
    /// file's second field; `false` for a profile's cookie lines).
    pub include_subdomains: bool,
    /// The path under which the cookie is sent (`/` unless a cookie file
    /// gives one).
    pub path: String,
    /// Whether the cookie is sent over HTTPS only.
    pub secure: bool,
    /// The cookie's name.
    pub name: String,
    /// The cookie's value.
    pub value: Secret,
}

/// How a site's session is kept and how losing it is noticed.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    /// The cookies sent with every request to the site: the profile's
    /// `session.cookies` lines, then those of its `session.cookie_file`.
    pub cookies: Vec<SessionCookie>,
    /// A selector that matches only on a logged-out page (e.g. the login
    /// form: `form#login`, `form[action*="mode=login"]`).
    pub logged_out: Option<Selector>,
    /// URLs of the login page; never crawled, and a redirect there means
    /// the session is gone.
    pub login_url: Option<Regex>,
}

impl SessionConfig {
    /// A cookie jar holding the profile's cookies for `base`.
    pub fn jar(&self, base: &Url) -> Jar {
        let jar = Jar::default();
        for c in &self.cookies {
            let host = c
                .domain
                .as_deref()
                .map(|d| d.trim_start_matches('.'))
                .or(base.host_str())
                .unwrap_or_default();
            let scheme = if c.secure { "https" } else { base.scheme() };
            let port = base.port().map(|p| format!(":{p}")).unwrap_or_default();
            let Ok(url) = Url::parse(&format!("{scheme}://{host}{port}{}", c.path)) else {
                tracing::warn!(cookie = %c.name, "cookie has an unusable domain or path; not sent");
                continue;
            };
            let mut line = format!("{}={}; Path={}", c.name, c.value.expose(), c.path);
            if c.include_subdomains {
                line.push_str(&format!("; Domain={host}"));
            }
            if c.secure {
                line.push_str("; Secure");
            }
            jar.add_cookie_str(&line, &url);
        }
        jar
    }

    /// This session with an operator's imported cookies in place of the
    /// profile's of the same name and path, and beside the others. The
    /// fingerprint changes with them, which resumes a site stopped for a
    /// person.
    pub fn with_imported(&self, imported: &[SessionCookie]) -> SessionConfig {
        let mut cookies: Vec<SessionCookie> = self
            .cookies
            .iter()
            .filter(|c| {
                !imported
                    .iter()
                    .any(|i| i.name == c.name && i.path == c.path)
            })
            .cloned()
            .collect();
        cookies.extend(imported.iter().cloned());
        SessionConfig {
            cookies,
            ..self.clone()
        }
    }

    /// Whether a fetched page is the site telling us we are logged out.
    pub fn is_logged_out(&self, url: &Url, page: &Html) -> bool {
        self.login_url
            .as_ref()
            .is_some_and(|r| r.is_match(url.as_str()))
            || self
                .logged_out
                .as_ref()
                .is_some_and(|s| page.select(s).next().is_some())
    }

    /// Whether detection needs the page parsed.
    pub fn checks_pages(&self) -> bool {
        self.logged_out.is_some() || self.login_url.is_some()
    }

    /// A digest of the cookies, to notice that an operator renewed them
    /// (it reveals nothing about the values).
    pub fn fingerprint(&self) -> String {
        let mut h = SipHasher13::new();
        for c in &self.cookies {
            std::hash::Hash::hash(&(&c.domain, &c.path, &c.name, c.value.expose()), &mut h);
        }
        format!("{:032x}", h.finish128().as_u128())
    }
}

/// Parses cookie lines from a profile: `name=value`.
pub fn parse_cookie_line(line: &str) -> Option<SessionCookie> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim();
    if name.is_empty() || name.contains([';', ' ', '\t']) {
        return None;
    }
    Some(SessionCookie {
        domain: None,
        include_subdomains: false,
        path: "/".into(),
        secure: false,
        name: name.to_owned(),
        value: Secret::new(value.trim().trim_end_matches(';')),
    })
}

impl SessionCookie {
    /// The cookie as one line of a Netscape cookie file (the form
    /// [`parse_cookie_file`] reads). The value is in it: keep the line out
    /// of logs.
    pub fn to_cookie_file_line(&self) -> String {
        let flag = |b: bool| if b { "TRUE" } else { "FALSE" };
        format!(
            "{}\t{}\t{}\t{}\t0\t{}\t{}",
            self.domain.as_deref().unwrap_or(""),
            flag(self.include_subdomains),
            self.path,
            flag(self.secure),
            self.name,
            self.value.expose()
        )
    }
}

/// `cookies` as a Netscape cookie file.
pub(crate) fn cookie_file_text(cookies: &[SessionCookie]) -> String {
    let mut text = String::from("# Netscape HTTP Cookie File\n");
    for c in cookies {
        text.push_str(&c.to_cookie_file_line());
        text.push('\n');
    }
    text
}

/// Parses a `Cookie` header as a browser's developer tools show it
/// (`name=value; other=value`); the error names the first unusable pair
/// (never its value).
pub fn parse_cookie_header(header: &str) -> Result<Vec<SessionCookie>, String> {
    header
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            parse_cookie_line(pair).ok_or_else(|| {
                let name = pair.split('=').next().unwrap_or_default();
                format!("`{name}…` is not a name=value cookie")
            })
        })
        .collect()
}

/// Parses a Netscape cookie file (as written by curl, wget and browser
/// export add-ons): tab-separated domain, subdomains flag, path, secure,
/// expiry, name, value; `#HttpOnly_` prefixes a domain; other `#` lines are
/// comments. Errors name the line.
pub fn parse_cookie_file(text: &str, path: &Path) -> Result<Vec<SessionCookie>, ProfileError> {
    let mut cookies = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let line = match line.strip_prefix("#HttpOnly_") {
            Some(rest) => rest,
            None if line.trim_start().starts_with('#') || line.trim().is_empty() => continue,
            None => line,
        };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 7 {
            return Err(ProfileError::Parse {
                path: path.to_owned(),
                line: n + 1,
                message: format!(
                    "a cookie line has 7 tab-separated fields (domain, subdomains, path, secure, expiry, name, value); this one has {}",
                    fields.len()
                ),
            });
        }
        let flag = |s: &str| s.eq_ignore_ascii_case("TRUE");
        cookies.push(SessionCookie {
            // An empty domain (a cookie given as `name=value`): the site's.
            domain: (!fields[0].is_empty()).then(|| fields[0].to_owned()),
            include_subdomains: flag(fields[1]),
            path: if fields[2].is_empty() {
                "/".into()
            } else {
                fields[2].to_owned()
            },
            secure: flag(fields[3]),
            name: fields[5].to_owned(),
            value: Secret::new(fields[6]),
        });
    }
    Ok(cookies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::cookie::CookieStore;

    // Shape of a curl `-c` cookie jar after logging in to a phpBB board.
    const JAR: &str = "# Netscape HTTP Cookie File\n\
# https://curl.se/docs/http-cookies.html\n\
\n\
127.0.0.1\tFALSE\t/\tFALSE\t0\tphpbb3_abc_u\t48213\n\
#HttpOnly_127.0.0.1\tFALSE\t/forum/\tFALSE\t1900000000\tphpbb3_abc_k\tk3y-s3cret\n";

    #[test]
    fn netscape_file_is_read_and_sent_for_matching_paths() {
        let cookies = parse_cookie_file(JAR, Path::new("jar.txt")).expect("valid jar");
        assert_eq!(cookies.len(), 2);
        assert_eq!(cookies[1].path, "/forum/");
        let session = SessionConfig {
            cookies,
            ..Default::default()
        };
        let base = Url::parse("http://127.0.0.1:8080/forum/").expect("url");
        let jar = session.jar(&base);
        let sent = jar
            .cookies(&Url::parse("http://127.0.0.1:8080/forum/index.php").expect("url"))
            .expect("cookies for the forum");
        let sent = sent.to_str().expect("ascii");
        assert!(
            sent.contains("phpbb3_abc_u=48213") && sent.contains("phpbb3_abc_k=k3y-s3cret"),
            "{sent}"
        );
        let elsewhere = jar.cookies(&Url::parse("http://127.0.0.1:8080/other/").expect("url"));
        let elsewhere = elsewhere
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(!elsewhere.contains("phpbb3_abc_k"), "{elsewhere}");
    }

    #[test]
    fn bad_cookie_line_names_its_line() {
        let err = parse_cookie_file("# c\nexample.onion\tFALSE\t/\n", Path::new("jar.txt"))
            .expect_err("short line")
            .to_string();
        assert!(err.starts_with("jar.txt:2:"), "{err}");
    }

    #[test]
    fn cookie_values_never_show_in_debug_output() {
        let c = parse_cookie_line("mybbuser=1_s3cr3tvalue").expect("valid");
        let shown = format!(
            "{c:?} {:?}",
            SessionConfig {
                cookies: vec![c.clone()],
                ..Default::default()
            }
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("mybbuser"));
    }

    #[test]
    fn fingerprint_changes_with_the_value_only_as_a_digest() {
        let a = SessionConfig {
            cookies: vec![parse_cookie_line("u=1").expect("c")],
            ..Default::default()
        };
        let b = SessionConfig {
            cookies: vec![parse_cookie_line("u=2").expect("c")],
            ..Default::default()
        };
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert!(!a.fingerprint().contains("u=1"));
    }

    #[test]
    fn logged_out_page_is_recognised_by_selector_or_url() {
        let session = SessionConfig {
            logged_out: Some(Selector::parse("form#login").expect("css")),
            login_url: Some(Regex::new(r"member\.php\?action=login").expect("re")),
            ..Default::default()
        };
        let url = Url::parse("http://127.0.0.1/forum/index.php").expect("url");
        let login_form = Html::parse_document("<form id=login action=member.php></form>");
        let topic = Html::parse_document("<div class=post>hello</div>");
        assert!(session.is_logged_out(&url, &login_form));
        assert!(!session.is_logged_out(&url, &topic));
        let login_url = Url::parse("http://127.0.0.1/forum/member.php?action=login").expect("url");
        assert!(session.is_logged_out(&login_url, &topic));
    }
}
