//! The TAXII 2.1 sink: adds an alert's STIX objects (the export's, ids
//! UUIDv5 of stable keys) to a collection, and never an object the
//! collection already holds. Speaks HTTP only; the outbox decides when.
//!
//! Never twice: before adding, the collection's manifest is asked which of
//! the objects it has (by id: a pushed object is never updated, so a second
//! version never appears); after, every object the server reports as failed
//! is looked up the same way, so a re-push after a crash (which TAXII
//! servers such as OASIS's medallion refuse object by object as "Unable to
//! process object") counts as delivered, and a real refusal does not.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::HttpAuth;
use crate::export::{stix, ExportAlert, Tlp};

/// The TAXII 2.1 media type, for `Accept` and `Content-Type`.
pub(crate) const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Ids per manifest query (they go in the URL).
const IDS_PER_QUERY: usize = 20;

/// A collection on a TAXII 2.1 server.
pub(crate) struct Taxii {
    client: reqwest::Client,
    api_root: reqwest::Url,
    collection: String,
    auth: HttpAuth,
    tlp: Tlp,
    timeout: Duration,
}

/// What the server said of an add: its status resource.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct AddStatus {
    pub id: String,
    pub complete: bool,
    /// (object id, message) of every object the server refused.
    pub failures: Vec<(String, String)>,
}

/// Reads a TAXII 2.1 status resource.
pub(crate) fn parse_status(body: &Value) -> Result<AddStatus, String> {
    let id = body["id"]
        .as_str()
        .ok_or("the answer is not a TAXII status resource (no id)")?
        .to_owned();
    let complete = match body["status"].as_str() {
        Some("complete") => true,
        Some("pending") => false,
        other => return Err(format!("status {other:?} is neither complete nor pending")),
    };
    let failures: Vec<(String, String)> = body["failures"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap_or("?").to_owned(),
                        f["message"].as_str().unwrap_or("no message").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let counted = body["failure_count"].as_u64().unwrap_or(0) as usize;
    if counted > 0 && failures.is_empty() {
        return Err(format!(
            "the server refused {counted} object(s) without naming them"
        ));
    }
    Ok(AddStatus {
        id,
        complete,
        failures,
    })
}

impl Taxii {
    pub(crate) fn new(
        api_root: reqwest::Url,
        collection: String,
        auth: HttpAuth,
        timeout: Duration,
        tlp: Tlp,
    ) -> anyhow::Result<Taxii> {
        Ok(Taxii {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            api_root,
            collection,
            auth,
            tlp,
            timeout,
        })
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, String> {
        self.api_root
            .join(path)
            .map_err(|e| format!("{}{path}: {e}", self.api_root))
    }

    fn request(&self, method: reqwest::Method, url: reqwest::Url) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .request(method, url)
            .header(reqwest::header::ACCEPT, TAXII_MEDIA_TYPE);
        match &self.auth {
            HttpAuth::Basic { user, password, .. } => {
                builder.basic_auth(user, Some(password.expose()))
            }
            HttpAuth::Bearer { token, .. } => builder.bearer_auth(token.expose()),
        }
    }

    /// The error of an answer that is not a success, naming the URL, the
    /// status and what to do.
    fn refused(&self, url: &reqwest::Url, status: u16, body: &str) -> String {
        let what = match status {
            401 | 403 => format!(
                ": the server refused the credentials; check {} (their names are in the sink's config)",
                self.auth.source()
            ),
            404 => format!(
                ": no such API root or collection; check api_root and collection (the server lists its collections at {}collections/)",
                self.api_root
            ),
            _ => String::new(),
        };
        format!("{url}: HTTP {status}{what}{}", excerpt(body))
    }

    /// Adds `alert`'s objects to the collection (those it lacks).
    pub(crate) async fn push(&self, alert: &ExportAlert) -> Result<(), String> {
        let bundle = stix::bundle(std::slice::from_ref(alert), self.tlp);
        let objects: Vec<Value> = bundle["objects"].as_array().cloned().unwrap_or_default();
        let ids: Vec<String> = objects.iter().filter_map(object_id).collect();
        let present = self.present(&ids).await?;
        let missing: Vec<Value> = objects
            .into_iter()
            .filter(|o| object_id(o).is_some_and(|id| !present.contains(&id)))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut failures = Vec::new();
        let mut batches = vec![missing];
        while let Some(batch) = batches.pop() {
            match self.add(&batch).await? {
                Added::Status(status) => failures.extend(status.failures),
                Added::TooLarge if batch.len() > 1 => {
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    batches.push(second);
                    batches.push(first);
                }
                Added::TooLarge => {
                    return Err(format!(
                        "{}: HTTP 413: one object is larger than the server accepts (its api root's max_content_length)",
                        self.objects_url()?
                    ))
                }
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        // Refused because the collection holds them already (a re-push)?
        let failed: Vec<String> = failures.iter().map(|(id, _)| id.clone()).collect();
        let present = self.present(&failed).await?;
        let refused: Vec<String> = failures
            .into_iter()
            .filter(|(id, _)| !present.contains(id))
            .map(|(id, message)| format!("{id}: {message}"))
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}: the server refused {} object(s): {}",
                self.objects_url()?,
                refused.len(),
                refused.join("; ")
            ))
        }
    }

    fn objects_url(&self) -> Result<reqwest::Url, String> {
        self.url(&format!("collections/{}/objects/", self.collection))
    }

    /// One POST of an envelope; a pending status is polled until complete.
    async fn add(&self, objects: &[Value]) -> Result<Added, String> {
        let url = self.objects_url()?;
        let body = serde_json::json!({ "objects": objects }).to_string();
        let response = self
            .request(reqwest::Method::POST, url.clone())
            .header(reqwest::header::CONTENT_TYPE, TAXII_MEDIA_TYPE)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        if status == 413 {
            return Ok(Added::TooLarge);
        }
        if !(200..300).contains(&status) {
            return Err(self.refused(&url, status, &text));
        }
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{url}: the answer is not JSON ({e}){}", excerpt(&text)))?;
        let mut parsed = parse_status(&value).map_err(|e| format!("{url}: {e}"))?;
        let deadline = Instant::now() + self.timeout;
        while !parsed.complete {
            if Instant::now() >= deadline {
                return Err(format!(
                    "{url}: the server's status {} is still pending after {} s; the push is repeated later (objects it has are not sent again)",
                    parsed.id,
                    self.timeout.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let status_url = self.url(&format!("status/{}/", parsed.id))?;
            let answer = self
                .request(reqwest::Method::GET, status_url.clone())
                .send()
                .await
                .map_err(|e| format!("{status_url}: {e}"))?;
            let code = answer.status().as_u16();
            let text = answer.text().await.unwrap_or_default();
            if !(200..300).contains(&code) {
                return Err(self.refused(&status_url, code, &text));
            }
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{status_url}: the answer is not JSON ({e})"))?;
            parsed = parse_status(&value).map_err(|e| format!("{status_url}: {e}"))?;
        }
        Ok(Added::Status(parsed))
    }

    /// Which of `ids` the collection holds (any version), from its manifest.
    async fn present(&self, ids: &[String]) -> Result<HashSet<String>, String> {
        let mut found = HashSet::new();
        let manifest = self.url(&format!("collections/{}/manifest/", self.collection))?;
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut next: Option<String> = None;
            loop {
                let mut url = manifest.clone();
                {
                    let mut query = url.query_pairs_mut();
                    query.append_pair("match[id]", &chunk.join(","));
                    query.append_pair("match[version]", "all");
                    if let Some(n) = &next {
                        query.append_pair("next", n);
                    }
                }
                let response = self
                    .request(reqwest::Method::GET, url.clone())
                    .send()
                    .await
                    .map_err(|e| format!("{manifest}: {e}"))?;
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                if status == 404 && next.is_none() && !text.contains("ollection") {
                    // Some servers answer 404 for "no object matches".
                    break;
                }
                if !(200..300).contains(&status) {
                    return Err(self.refused(&manifest, status, &text));
                }
                let value: Value = if text.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text)
                        .map_err(|e| format!("{manifest}: the answer is not JSON ({e})"))?
                };
                for entry in value["objects"].as_array().into_iter().flatten() {
                    if let Some(id) = entry["id"].as_str() {
                        found.insert(id.to_owned());
                    }
                }
                match (value["more"].as_bool(), value["next"].as_str()) {
                    (Some(true), Some(n)) => next = Some(n.to_owned()),
                    _ => break,
                }
            }
        }
        Ok(found)
    }
}

enum Added {
    Status(AddStatus),
    TooLarge,
}

fn object_id(object: &Value) -> Option<String> {
    object["id"].as_str().map(str::to_owned)
}

/// The start of an answer's body, for an error message.
pub(crate) fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return String::new();
    }
    let cut: String = body.chars().take(300).collect();
    format!(" ({cut})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_resources_are_read_with_their_failures() {
        // As medallion 3.0 answers a second add of the same object.
        let body = serde_json::json!({
            "id": "9a2539f9-2960-4341-9f6d-52b4ebf7c052", "status": "complete",
            "success_count": 0, "failure_count": 1, "pending_count": 0, "total_count": 1,
            "failures": [{"id": "identity--311b2d2d-f010-4473-83ec-1edf84858f4c",
                          "message": "Unable to process object", "version": "2017-01-20T00:00:00.000Z"}],
        });
        let status = parse_status(&body).expect("a status");
        assert!(status.complete);
        assert_eq!(
            status.failures,
            [(
                "identity--311b2d2d-f010-4473-83ec-1edf84858f4c".to_owned(),
                "Unable to process object".to_owned()
            )]
        );
        let pending = serde_json::json!({"id": "x", "status": "pending", "failure_count": 0});
        assert!(!parse_status(&pending).expect("a status").complete);
        let unnamed = serde_json::json!({"id": "x", "status": "complete", "failure_count": 2});
        assert!(parse_status(&unnamed).is_err());
        assert!(parse_status(&serde_json::json!({"title": "Error"})).is_err());
    }
}
