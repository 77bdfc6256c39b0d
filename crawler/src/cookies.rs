//! Cookies a site sets while it is crawled (a refreshed session, a rotated
//! anti-bot token), kept in the state store so that a restarted crawler
//! continues the session the site handed out instead of falling back to the
//! profile's older cookies and being logged out.
//!
//! Saved cookies belong to the profile's cookies they grew from: when an
//! operator renews the profile's cookies (its fingerprint changes), the
//! saved ones are dropped. Values live only in the state store, never in a
//! log.

use std::path::Path;
use std::sync::{Arc, Mutex};

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderValue;
use rusqlite::{params, Connection};
use url::Url;

use crate::error::FrontierError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS crawl_cookies (
    site        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    host        TEXT NOT NULL,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    url         TEXT NOT NULL,
    set_cookie  TEXT NOT NULL,
    saved_at    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (site, host, name, path)
);
";

/// Cookies of every site, in the state store.
pub struct CookieVault {
    db: Mutex<Connection>,
}

impl std::fmt::Debug for CookieVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieVault")
    }
}

/// One saved `Set-Cookie` line and the URL that set it.
#[derive(Clone)]
struct Saved {
    url: String,
    set_cookie: String,
    saved_at: i64,
}

impl CookieVault {
    /// Opens (creating if needed) the cookie table in the SQLite file at
    /// `path` (the state store).
    pub fn open(path: &Path) -> Result<Arc<CookieVault>, FrontierError> {
        let db = crate::frontier::open_state_store(path, SCHEMA)?;
        Ok(Arc::new(CookieVault { db: Mutex::new(db) }))
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Saves one `Set-Cookie` line `url` received; drops what was saved
    /// under other profile cookies of the site.
    fn save(
        &self,
        site: &str,
        fingerprint: &str,
        url: &Url,
        set_cookie: &str,
        now: i64,
    ) -> Result<(), rusqlite::Error> {
        let (name, path) = name_and_path(set_cookie);
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "DELETE FROM crawl_cookies WHERE site = ?1 AND fingerprint <> ?2",
            params![site, fingerprint],
        )?;
        tx.execute(
            "INSERT INTO crawl_cookies (site, fingerprint, host, name, path, url, set_cookie, saved_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                     (SELECT coalesce(max(seq), 0) + 1 FROM crawl_cookies))
             ON CONFLICT (site, host, name, path) DO UPDATE SET
                fingerprint = excluded.fingerprint, url = excluded.url,
                set_cookie = excluded.set_cookie, saved_at = excluded.saved_at,
                seq = excluded.seq",
            params![
                site,
                fingerprint,
                url.host_str().unwrap_or_default(),
                name,
                path,
                url.as_str(),
                set_cookie,
                now
            ],
        )?;
        tx.commit()
    }

    /// The lines saved for `site` under `fingerprint`, in the order set.
    fn load(&self, site: &str, fingerprint: &str) -> Result<Vec<Saved>, rusqlite::Error> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT url, set_cookie, saved_at FROM crawl_cookies
             WHERE site = ?1 AND fingerprint = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![site, fingerprint], |r| {
            Ok(Saved {
                url: r.get(0)?,
                set_cookie: r.get(1)?,
                saved_at: r.get(2)?,
            })
        })?;
        rows.collect()
    }

    /// How many cookies are saved for `site` (tests, diagnostics).
    pub fn count(&self, site: &str) -> Result<usize, rusqlite::Error> {
        self.db().query_row(
            "SELECT count(*) FROM crawl_cookies WHERE site = ?1",
            [site],
            |r| r.get::<_, i64>(0).map(|n| n as usize),
        )
    }
}

/// The cookie name and `Path` attribute of a `Set-Cookie` line (the key a
/// browser replaces a cookie by, with its host).
fn name_and_path(set_cookie: &str) -> (String, String) {
    let mut parts = set_cookie.split(';');
    let name = parts
        .next()
        .and_then(|p| p.split_once('=').map(|(n, _)| n))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let path = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("path"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    (name, path)
}

/// `set_cookie` as it reads `elapsed` seconds after it was received: a
/// relative `Max-Age` counts down (to 0, which deletes the cookie), so a
/// restart never revives an expired cookie.
fn aged(set_cookie: &str, elapsed: i64) -> String {
    set_cookie
        .split(';')
        .map(|part| match part.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("max-age") => {
                match v.trim().parse::<i64>() {
                    Ok(max_age) => format!(" Max-Age={}", (max_age - elapsed.max(0)).max(0)),
                    Err(_) => part.to_owned(),
                }
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A site's cookie jar that also saves what the site sets to the vault.
pub(crate) struct SiteJar {
    jar: Jar,
    vault: Option<Arc<CookieVault>>,
    site: String,
    fingerprint: String,
}

impl SiteJar {
    /// `jar` (holding the profile's cookies) with the cookies saved for the
    /// site replayed over it, in the order the site set them.
    pub(crate) fn new(
        jar: Jar,
        vault: Option<Arc<CookieVault>>,
        site: &str,
        fingerprint: String,
    ) -> SiteJar {
        if let Some(vault) = &vault {
            match vault.load(site, &fingerprint) {
                Ok(saved) => {
                    let now = now_secs();
                    for s in saved {
                        if let Ok(url) = Url::parse(&s.url) {
                            jar.add_cookie_str(&aged(&s.set_cookie, now - s.saved_at), &url);
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%site, %error, "cannot read the site's saved cookies; starting from the profile's")
                }
            }
        }
        SiteJar {
            jar,
            vault,
            site: site.to_owned(),
            fingerprint,
        }
    }
}

impl CookieStore for SiteJar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let headers: Vec<&HeaderValue> = headers.collect();
        self.jar.set_cookies(&mut headers.iter().copied(), url);
        let Some(vault) = &self.vault else {
            return;
        };
        let now = now_secs();
        let save = || {
            for header in &headers {
                let Ok(line) = header.to_str() else {
                    continue;
                };
                if let Err(error) = vault.save(&self.site, &self.fingerprint, url, line, now) {
                    let (name, _) = name_and_path(line);
                    tracing::warn!(site = %self.site, cookie = %name, %error, "cannot save a cookie the site set; it lasts until the crawler stops");
                }
            }
        };
        // SQLite blocks: on a multi-threaded runtime, step off the worker so
        // other sites' requests keep their schedule meanwhile.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(save),
            _ => save(),
        }
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.jar.cookies(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_ageing() {
        assert_eq!(
            name_and_path("sid=abc; Path=/forum; HttpOnly"),
            ("sid".to_owned(), "/forum".to_owned())
        );
        assert_eq!(name_and_path("t=1"), ("t".to_owned(), String::new()));
        assert_eq!(
            aged("t=1; Max-Age=3600; Path=/", 600),
            "t=1; Max-Age=3000; Path=/"
        );
        assert_eq!(aged("t=1; max-age=60", 600), "t=1; Max-Age=0");
        assert_eq!(aged("t=1; Path=/", 600), "t=1; Path=/");
    }

    #[test]
    fn cookies_the_site_sets_survive_a_restart_until_the_profile_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let url = Url::parse("http://board.example/index.php").expect("url");
        {
            let vault = CookieVault::open(&path).expect("vault");
            let jar = SiteJar::new(Jar::default(), Some(vault), "b", "fp1".into());
            let set = [
                HeaderValue::from_static("sess=new; Path=/"),
                HeaderValue::from_static("gone=1; Path=/; Max-Age=0"),
            ];
            jar.set_cookies(&mut set.iter(), &url);
        }
        let vault = CookieVault::open(&path).expect("vault");
        let profile = Jar::default();
        profile.add_cookie_str("sess=old; Path=/", &url);
        let jar = SiteJar::new(profile, Some(vault.clone()), "b", "fp1".into());
        let sent = jar.cookies(&url).expect("cookies");
        assert_eq!(sent.to_str().expect("ascii"), "sess=new");

        // The operator renewed the profile's cookies: the saved ones go.
        let profile = Jar::default();
        profile.add_cookie_str("sess=renewed; Path=/", &url);
        let jar = SiteJar::new(profile, Some(vault.clone()), "b", "fp2".into());
        assert_eq!(
            jar.cookies(&url).expect("cookies").to_str().expect("ascii"),
            "sess=renewed"
        );
        jar.set_cookies(&mut [HeaderValue::from_static("x=1; Path=/")].iter(), &url);
        assert_eq!(vault.count("b").expect("count"), 1, "fp1's cookies dropped");
    }
}
