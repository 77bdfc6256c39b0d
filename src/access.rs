//! Who may use the console: API tokens (only their SHA-256 is stored, the
//! value is shown once at creation) with a scope (the operator, or one
//! customer) and a role (viewer or analyst), and the console's server-side
//! sessions (random id, CSRF token, expiry). Never logs a token or a
//! session id.

use std::fmt;

use anyhow::{bail, Context};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::alert_store::AlertStore;

/// The tables; created beside `alerts` by [`AlertStore::open`].
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    sha256      TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL,
    role        TEXT NOT NULL,
    created     TEXT NOT NULL,
    last_used   TEXT,
    expires     TEXT,
    revoked     TEXT
);
CREATE TABLE IF NOT EXISTS console_sessions (
    sha256      TEXT PRIMARY KEY,
    token_id    INTEGER NOT NULL REFERENCES api_tokens(id),
    csrf        TEXT NOT NULL,
    created     TEXT NOT NULL,
    expires     TEXT NOT NULL
);
";

/// What every token starts with, so that a leaked one is recognisable
/// (secret scanners, log reviews).
pub(crate) const TOKEN_PREFIX: &str = "lw_";

/// Random bytes in a token (and a session id).
const SECRET_BYTES: usize = 32;

/// How long a console session lasts (it also ends with its token).
pub(crate) const SESSION_HOURS: i64 = 12;

/// Whose data a token sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every customer's (the monitoring provider's analysts).
    Operator,
    /// One customer's only.
    Customer(String),
}

impl Scope {
    fn stored(&self) -> String {
        match self {
            Scope::Operator => "operator".into(),
            Scope::Customer(c) => format!("customer:{c}"),
        }
    }

    fn from_stored(text: &str) -> Option<Scope> {
        match text {
            "operator" => Some(Scope::Operator),
            _ => text
                .strip_prefix("customer:")
                .filter(|c| !c.is_empty())
                .map(|c| Scope::Customer(c.to_owned())),
        }
    }

    /// The customer every query must be limited to, if any.
    pub(crate) fn customer(&self) -> Option<&str> {
        match self {
            Scope::Operator => None,
            Scope::Customer(c) => Some(c),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stored())
    }
}

/// What a token may do within its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    /// Read only.
    Viewer,
    /// Read and triage.
    Analyst,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            _ => None,
        }
    }
}

/// A token as stored (never its value).
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct TokenInfo {
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "serialize_scope")]
    pub scope: Scope,
    pub role: Role,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
    pub revoked: Option<String>,
}

fn serialize_scope<S: serde::Serializer>(scope: &Scope, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&scope.stored())
}

impl TokenInfo {
    /// Usable at `now`: not revoked, not expired.
    pub(crate) fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked.is_none() && !expired(self.expires.as_deref(), now)
    }
}

fn expired(expires: Option<&str>, now: DateTime<Utc>) -> bool {
    match expires {
        None => false,
        // An unreadable expiry is treated as past: fail closed.
        Some(t) => DateTime::parse_from_rfc3339(t).map_or(true, |t| t <= now),
    }
}

/// Who is calling: a live token's name, scope and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    pub token_id: i64,
    pub name: String,
    pub scope: Scope,
    pub role: Role,
}

impl Principal {
    pub(crate) fn may_triage(&self) -> bool {
        self.role == Role::Analyst
    }
}

/// A live console session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub principal: Principal,
    /// The value every state-changing form must carry.
    pub csrf: String,
}

/// `n` random bytes from the operating system, hex-encoded.
fn random_hex(n: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system gave no random bytes: {e}"))?;
    Ok(hex::encode(bytes))
}

/// A fresh token value: the prefix and 32 random bytes in hex.
pub(crate) fn new_token_value() -> anyhow::Result<String> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex(SECRET_BYTES)?))
}

/// A fresh random secret (session ids, CSRF tokens).
pub(crate) fn new_secret() -> anyhow::Result<String> {
    random_hex(SECRET_BYTES)
}

/// The stored digest of a token or session id.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equal without an early exit on the first differing byte (CSRF checks).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn token_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(TokenInfo, bool)> {
    let scope: String = r.get(2)?;
    let role: String = r.get(3)?;
    let (scope_ok, role_ok) = (Scope::from_stored(&scope), Role::parse(&role));
    let readable = scope_ok.is_some() && role_ok.is_some();
    Ok((
        TokenInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            // An unreadable row is never live (see `readable`).
            scope: scope_ok.unwrap_or(Scope::Customer(String::new())),
            role: role_ok.unwrap_or(Role::Viewer),
            created: r.get(4)?,
            last_used: r.get(5)?,
            expires: r.get(6)?,
            revoked: r.get(7)?,
        },
        readable,
    ))
}

const TOKEN_COLUMNS: &str = "id, name, scope, role, created, last_used, expires, revoked";

impl AlertStore {
    /// Creates a token; returns its value, which is stored nowhere.
    pub(crate) fn create_token(
        &self,
        name: &str,
        scope: &Scope,
        role: Role,
        expires: Option<DateTime<Utc>>,
    ) -> anyhow::Result<String> {
        if name.trim().is_empty() {
            bail!("a token needs a name (--name): it is who the audit trail says acted");
        }
        if let Scope::Customer(c) = scope {
            if c.trim().is_empty() || c.contains(char::is_whitespace) {
                bail!("--customer {c:?}: write the customer id of a watchlist");
            }
        }
        let value = new_token_value()?;
        self.with_connection(|db| {
            let taken: bool = db
                .query_row("SELECT 1 FROM api_tokens WHERE name = ?1", [name], |_| {
                    Ok(())
                })
                .optional()?
                .is_some();
            if taken {
                bail!("a token named {name:?} exists; revoke it or choose another name");
            }
            db.execute(
                "INSERT INTO api_tokens (name, sha256, scope, role, created, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    name,
                    digest(&value),
                    scope.stored(),
                    role.as_str(),
                    time_text(Utc::now()),
                    expires.map(time_text)
                ],
            )?;
            Ok(())
        })?;
        Ok(value)
    }

    /// Every token, oldest first.
    pub(crate) fn tokens(&self) -> anyhow::Result<Vec<TokenInfo>> {
        self.with_connection(|db| {
            let mut stmt = db.prepare(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id"
            ))?;
            let rows = stmt
                .query_map([], token_from_row)?
                .map(|r| r.map(|(t, _)| t))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Revokes the token named `name` (its sessions end with it); false if
    /// there is none or it was revoked already.
    pub(crate) fn revoke_token(&self, name: &str) -> anyhow::Result<bool> {
        self.with_connection(|db| {
            let changed = db.execute(
                "UPDATE api_tokens SET revoked = ?2 WHERE name = ?1 AND revoked IS NULL",
                params![name, time_text(Utc::now())],
            )?;
            db.execute(
                "DELETE FROM console_sessions
                 WHERE token_id IN (SELECT id FROM api_tokens WHERE name = ?1)",
                [name],
            )?;
            Ok(changed > 0)
        })
    }

    /// The principal of a presented token value, if it is live; records
    /// its use.
    pub(crate) fn authenticate(&self, value: &str) -> anyhow::Result<Option<Principal>> {
        let now = Utc::now();
        self.with_connection(|db| {
            let Some((principal, due)) = live_token(db, value, now)? else {
                return Ok(None);
            };
            if due {
                touch_token(db, principal.token_id, now)?;
            }
            Ok(Some(principal))
        })
    }

    /// Records that token `id` was used at `now` (see [`live_token`]).
    pub(crate) fn touch_token(&self, id: i64, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.with_connection(|db| touch_token(db, id, now))
    }

    /// Opens a console session for `principal`; returns its id (for the
    /// cookie; only its digest is stored) and CSRF token.
    pub(crate) fn open_session(&self, principal: &Principal) -> anyhow::Result<(String, String)> {
        let id = new_secret()?;
        let csrf = new_secret()?;
        let now = Utc::now();
        self.with_connection(|db| {
            db.execute(
                "DELETE FROM console_sessions WHERE expires <= ?1",
                [time_text(now)],
            )?;
            db.execute(
                "INSERT INTO console_sessions (sha256, token_id, csrf, created, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    digest(&id),
                    principal.token_id,
                    csrf,
                    time_text(now),
                    time_text(now + chrono::Duration::hours(SESSION_HOURS))
                ],
            )?;
            Ok(())
        })?;
        Ok((id, csrf))
    }

    /// Ends a session (logout).
    pub(crate) fn close_session(&self, id: &str) -> anyhow::Result<()> {
        self.with_connection(|db| {
            db.execute(
                "DELETE FROM console_sessions WHERE sha256 = ?1",
                [digest(id)],
            )?;
            Ok(())
        })
    }
}

/// The principal of a presented token value if it is live at `now`, read
/// on `db` (the store's connection or a reader's), and whether its
/// `last_used` is due an update ([`touch_token`]): it is kept to the
/// minute, so that a busy API client does not write on every call.
pub(crate) fn live_token(
    db: &Connection,
    value: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(Principal, bool)>> {
    if !value.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let row = db
        .query_row(
            &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE sha256 = ?1"),
            [digest(value)],
            token_from_row,
        )
        .optional()?;
    let Some((token, true)) = row else {
        return Ok(None);
    };
    if !token.is_live(now) {
        return Ok(None);
    }
    let minute = &time_text(now)[..16];
    let due = token
        .last_used
        .as_deref()
        .is_none_or(|used| used.get(..16).is_none_or(|m| m < minute));
    Ok(Some((
        Principal {
            token_id: token.id,
            name: token.name,
            scope: token.scope,
            role: token.role,
        },
        due,
    )))
}

/// Sets token `id`'s `last_used` to `now`, unless it already says this
/// minute.
fn touch_token(db: &Connection, id: i64, now: DateTime<Utc>) -> anyhow::Result<()> {
    let minute = time_text(now)[..16].to_owned();
    db.execute(
        "UPDATE api_tokens SET last_used = ?2
         WHERE id = ?1 AND (last_used IS NULL OR substr(last_used, 1, 16) < ?3)",
        params![id, time_text(now), minute],
    )?;
    Ok(())
}

/// The live session with this id at `now`, read on `db` (the store's
/// connection or a reader's); its token must be live too.
pub(crate) fn live_session(
    db: &Connection,
    id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Session>> {
    let row = db
        .query_row(
            "SELECT t.id, t.name, t.scope, t.role, t.created, t.last_used, t.expires,
                    t.revoked, s.csrf, s.expires
             FROM console_sessions s JOIN api_tokens t ON t.id = s.token_id
             WHERE s.sha256 = ?1",
            [digest(id)],
            |r| {
                Ok((
                    token_from_row(r)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                ))
            },
        )
        .optional()?;
    let Some(((token, true), csrf, expires)) = row else {
        return Ok(None);
    };
    if !token.is_live(now) || expired(Some(&expires), now) {
        return Ok(None);
    }
    Ok(Some(Session {
        principal: Principal {
            token_id: token.id,
            name: token.name,
            scope: token.scope,
            role: token.role,
        },
        csrf,
    }))
}

/// Parses `--expires 90d` (the units of [`crawler::parse_duration`]) into
/// a time from now.
pub(crate) fn expiry_from_now(span: &str) -> anyhow::Result<DateTime<Utc>> {
    let span = crawler::parse_duration(span.trim())
        .map_err(|e| anyhow::anyhow!("--expires {span:?}: {e}; write e.g. 90d or 12h"))?;
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d))
        .with_context(|| format!("--expires {span:?}: too far in the future"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, AlertStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("open");
        (dir, store)
    }

    #[test]
    fn token_values_are_random_prefixed_and_stored_as_digests() {
        let (dir, store) = store();
        let a = store
            .create_token("soc", &Scope::Operator, Role::Analyst, None)
            .expect("create");
        let b = store
            .create_token(
                "bank",
                &Scope::Customer("mufg-group".into()),
                Role::Viewer,
                None,
            )
            .expect("create");
        assert!(a.starts_with("lw_") && a.len() == 3 + 64, "{a}");
        assert_ne!(a, b);
        let raw = std::fs::read(dir.path().join("state.db")).expect("read db");
        let wal = std::fs::read(dir.path().join("state.db-wal")).unwrap_or_default();
        for v in [&a, &b] {
            let needle = v.as_bytes();
            assert!(
                !raw.windows(needle.len()).any(|w| w == needle),
                "value stored"
            );
            assert!(
                !wal.windows(needle.len()).any(|w| w == needle),
                "value stored"
            );
        }
        let p = store.authenticate(&b).expect("auth").expect("live");
        assert_eq!(p.scope.customer(), Some("mufg-group"));
        assert_eq!((p.name.as_str(), p.role), ("bank", Role::Viewer));
        assert!(store.authenticate("lw_0000").expect("auth").is_none());
        assert!(store.authenticate("").expect("auth").is_none());
        let err = store
            .create_token("soc", &Scope::Operator, Role::Viewer, None)
            .expect_err("duplicate name");
        assert!(err.to_string().contains("exists"), "{err}");
    }

    #[test]
    fn revoked_and_expired_tokens_and_their_sessions_end() {
        let (_dir, store) = store();
        let live = store
            .create_token("a", &Scope::Operator, Role::Analyst, None)
            .expect("create");
        let past = Utc::now() - chrono::Duration::seconds(1);
        let old = store
            .create_token("b", &Scope::Operator, Role::Analyst, Some(past))
            .expect("create");
        assert!(store.authenticate(&old).expect("auth").is_none(), "expired");
        let p = store.authenticate(&live).expect("auth").expect("live");
        let (sid, csrf) = store.open_session(&p).expect("session");
        let session = |id: &str| {
            store
                .with_connection(|db| live_session(db, id, Utc::now()))
                .expect("session")
        };
        let s = session(&sid).expect("live");
        assert_eq!(
            (s.principal.name.as_str(), s.csrf.as_str()),
            ("a", csrf.as_str())
        );
        assert!(session("other").is_none());
        assert!(store.revoke_token("a").expect("revoke"));
        assert!(!store.revoke_token("a").expect("revoke again"));
        assert!(
            store.authenticate(&live).expect("auth").is_none(),
            "revoked"
        );
        assert!(session(&sid).is_none(), "revoked");
        let listed = store.tokens().expect("list");
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|t| !t.is_live(Utc::now())));
        assert!(listed[0].last_used.is_some());
    }

    #[test]
    fn comparisons_and_expiry() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd") && !constant_time_eq("abc", "ab"));
        let in_90 = expiry_from_now("90d").expect("90d") - Utc::now();
        assert!((89..=90).contains(&in_90.num_days()), "{in_90}");
        assert!(expiry_from_now("soon").is_err());
    }
}
