//! Scope: whether a link belongs to a site's crawl — canonical form, same
//! site, the profile's allow/deny patterns, never its login page. Pure; the
//! crawl loop adds the depth limit.

use url::Url;

use crate::canonical::{CanonicalUrl, UrlError};
use crate::rules::SiteRules;

/// Why a link is not crawled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutOfScope {
    /// Not an http(s) URL with a host.
    #[error(transparent)]
    NotCrawlable(#[from] UrlError),
    /// Outside the site's base URL and mirrors.
    #[error("{0}: outside the site's base URL")]
    OtherSite(String),
    /// The rules allow some links only, and not this one.
    #[error("{0}: matches no links.allow pattern")]
    NotAllowed(String),
    /// A deny pattern matches.
    #[error("{url}: matches links.deny pattern {pattern:?}")]
    Denied {
        /// The canonical URL.
        url: String,
        /// The deny pattern that matched.
        pattern: String,
    },
    /// The site's login page.
    #[error("{0}: the site's login page (links.login_url, from the profile's session.login_url)")]
    LoginPage(String),
}

/// Canonicalises `url` with the site's rules (a mirror's URL becoming the
/// same place under the base URL) and checks it is in scope. Patterns are
/// matched against the canonical URL, so a session parameter cannot make a
/// link slip past an anchored `allow` pattern.
pub fn admit(profile: &SiteRules, url: Url) -> Result<CanonicalUrl, OutOfScope> {
    let url = CanonicalUrl::new(profile.to_primary(url), &profile.links.url_rules)?;
    if !profile.contains(url.as_url()) {
        return Err(OutOfScope::OtherSite(url.to_string()));
    }
    let s = url.as_str();
    if profile
        .links
        .login_url
        .as_ref()
        .is_some_and(|r| r.is_match(s))
    {
        return Err(OutOfScope::LoginPage(url.to_string()));
    }
    if !profile.links.allow.is_empty() && !profile.links.allow.iter().any(|r| r.is_match(s)) {
        return Err(OutOfScope::NotAllowed(url.to_string()));
    }
    let denied = profile.links.deny_set.matches(s).iter().next();
    if let Some(r) = denied.and_then(|i| profile.links.deny.get(i)) {
        return Err(OutOfScope::Denied {
            url: url.to_string(),
            pattern: r.as_str().to_owned(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const ONION: &str = "juhanurmihxlp77nkq76byazcldy2hlmovfu2epvl5ankdibsot4csyd.onion";

    fn profile() -> SiteRules {
        let text = format!(
            r#"
name = "board"
base_url = "http://{ONION}/forum/"
[links]
follow = ["a"]
allow = ['/viewforum\.php\?f=\d+(&start=\d+)?$', '/viewtopic\.php\?f=\d+&t=\d+(&start=\d+)?$']
deny = ['mode=']
[topic]
url = 'viewtopic\.php'
title = "h2"
body = "div.content"
"#
        );
        let mut rules = SiteRules::parse(&text, Path::new("board.toml")).expect("valid profile");
        rules.links.login_url = Some(regex::Regex::new(r"ucp\.php\?mode=login").expect("valid"));
        rules
    }

    fn check(url: &str) -> Result<String, OutOfScope> {
        admit(&profile(), Url::parse(url).expect("url")).map(|c| c.to_string())
    }

    #[test]
    fn session_parameters_do_not_defeat_anchored_allow_patterns() {
        assert_eq!(
            check(&format!("http://{ONION}/forum/viewtopic.php?t=8647&f=2&sid=9f8e7d6c5b4a39281706f5e4d3c2b1a0")),
            Ok(format!("http://{ONION}/forum/viewtopic.php?f=2&t=8647"))
        );
    }

    #[test]
    fn other_hosts_paths_and_schemes_are_out() {
        assert!(matches!(
            check("http://elsewhere.onion/forum/viewforum.php?f=1"),
            Err(OutOfScope::OtherSite(_))
        ));
        assert!(matches!(
            check(&format!("http://{ONION}/other/viewforum.php?f=1")),
            Err(OutOfScope::OtherSite(_))
        ));
        assert!(matches!(
            check(&format!("https://{ONION}/forum/viewforum.php?f=1")),
            Err(OutOfScope::OtherSite(_))
        ));
        assert!(matches!(
            check(&format!("http://{ONION}:8080/forum/viewforum.php?f=1")),
            Err(OutOfScope::OtherSite(_))
        ));
    }

    #[test]
    fn allow_deny_and_login_page() {
        assert!(matches!(
            check(&format!("http://{ONION}/forum/memberlist.php")),
            Err(OutOfScope::NotAllowed(_))
        ));
        assert!(matches!(
            check(&format!("http://{ONION}/forum/ucp.php?mode=login&sid=1")),
            Err(OutOfScope::LoginPage(_))
        ));
        assert!(check(&format!("http://{ONION}/forum/viewforum.php?f=2&start=25")).is_ok());
    }

    #[test]
    fn links_into_a_mirror_become_the_same_page_on_the_base_url() {
        const MIRROR: &str = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";
        let text = format!(
            r#"
name = "board"
base_url = "http://{ONION}/forum/"
mirrors = ["http://{MIRROR}/bbs"]
[links]
follow = ["a"]
[topic]
url = 'viewtopic\.php'
title = "h2"
"#
        );
        let p = SiteRules::parse(&text, Path::new("board.toml")).expect("valid profile");
        let link = Url::parse(&format!(
            "http://{MIRROR}/bbs/viewtopic.php?t=8647&sid=0123456789abcdef0123456789abcdef#p1"
        ))
        .expect("url");
        assert_eq!(
            admit(&p, link).expect("in scope").as_str(),
            format!("http://{ONION}/forum/viewtopic.php?t=8647")
        );
        for outside in ["other/x", "bbsx/viewtopic.php?t=1"] {
            let outside = Url::parse(&format!("http://{MIRROR}/{outside}")).expect("url");
            assert!(matches!(admit(&p, outside), Err(OutOfScope::OtherSite(_))));
        }
        let bad = text.replace(
            MIRROR,
            "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wie.onion",
        );
        let err = SiteRules::parse(&bad, Path::new("board.toml")).expect_err("bad checksum");
        assert!(err.to_string().contains("mirrors"), "{err}");
    }
}
