//! Alert sinks: a JSON-lines file, a webhook (POST JSON signed with
//! HMAC-SHA256), e-mail over SMTP, a TAXII 2.1 collection (`taxii`) and a
//! MISP instance (`misp`). A sink only delivers; retries and bookkeeping
//! are `delivery`'s. A delivery sent again after a crash carries the same
//! identity (`X-Leakwatch-Delivery`, Message-ID, STIX ids, MISP uuids), and
//! the JSON-lines file is checked so that it never holds an alert twice.

mod enrich;
mod misp;
mod taxii;

pub(crate) use enrich::Enricher;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;

use crate::alert_store::Delivery;
use crate::config::{Digest, SinkConfig, SinkKind, SmtpSecurity};
use crate::format::format_alert;
use crate::operator_events::OperatorEvent;

/// Header carrying `sha256=<hex HMAC of the body>`.
pub(crate) const SIGNATURE_HEADER: &str = "x-leakwatch-signature";
/// Header carrying the delivery id (stable across retries: receivers can
/// drop a repeat).
pub(crate) const DELIVERY_HEADER: &str = "x-leakwatch-delivery";
/// Header naming an operator event's kind (`needs_human`) on a webhook
/// POST that carries one instead of an alert.
pub(crate) const EVENT_HEADER: &str = "x-leakwatch-event";

enum Sink {
    Jsonl(PathBuf),
    Webhook {
        client: reqwest::Client,
        url: reqwest::Url,
        secret: crawler::Secret,
    },
    Email {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: lettre::message::Mailbox,
        to: Vec<lettre::message::Mailbox>,
        /// Whether non-critical alerts due together go out as one digest.
        digest: bool,
    },
    Taxii(taxii::Taxii),
    Misp(misp::Misp),
}

/// The configured sinks by name.
pub(crate) struct Sinks {
    sinks: HashMap<String, Sink>,
    enricher: Enricher,
}

/// One sink, borrowed for a round of deliveries.
pub(crate) struct SinkRef<'a> {
    sink: &'a Sink,
    enricher: &'a Enricher,
}

impl Sinks {
    /// The sinks of `configs`; TAXII and MISP exports read the listing and
    /// the asset through `enricher`.
    pub(crate) fn new(configs: &[SinkConfig], enricher: Enricher) -> anyhow::Result<Sinks> {
        let mut sinks = HashMap::new();
        for c in configs {
            let sink = match &c.kind {
                SinkKind::Jsonl { path } => Sink::Jsonl(path.clone()),
                SinkKind::Webhook {
                    url,
                    secret,
                    timeout,
                } => Sink::Webhook {
                    client: reqwest::Client::builder()
                        .timeout(*timeout)
                        .connect_timeout(*timeout)
                        .no_proxy()
                        .redirect(reqwest::redirect::Policy::none())
                        .build()?,
                    url: url.clone(),
                    secret: secret.clone(),
                },
                SinkKind::Email {
                    host,
                    port,
                    security,
                    from,
                    to,
                    credentials,
                    digest,
                } => {
                    let builder = match security {
                        SmtpSecurity::None => {
                            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                        }
                        SmtpSecurity::StartTls => {
                            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?
                        }
                        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                    };
                    let mut builder = builder
                        .port(*port)
                        .timeout(Some(std::time::Duration::from_secs(30)));
                    if let Some((user, password)) = credentials {
                        builder = builder.credentials(Credentials::new(
                            user.clone(),
                            password.expose().to_owned(),
                        ));
                    }
                    Sink::Email {
                        transport: builder.build(),
                        from: from.parse()?,
                        to: to.iter().map(|t| t.parse()).collect::<Result<_, _>>()?,
                        digest: *digest != Digest::Immediate,
                    }
                }
                SinkKind::Taxii {
                    api_root,
                    collection,
                    auth,
                    timeout,
                    tlp,
                } => Sink::Taxii(taxii::Taxii::new(
                    api_root.clone(),
                    collection.clone(),
                    auth.clone(),
                    *timeout,
                    *tlp,
                )?),
                SinkKind::Misp {
                    url,
                    key,
                    key_env,
                    verify_tls,
                    distribution,
                    event_per,
                    timeout,
                    tlp,
                } => Sink::Misp(misp::Misp::new(
                    url.clone(),
                    key.clone(),
                    key_env.clone(),
                    *verify_tls,
                    *distribution,
                    *event_per,
                    *timeout,
                    *tlp,
                )?),
            };
            sinks.insert(c.name.clone(), sink);
        }
        Ok(Sinks { sinks, enricher })
    }

    pub(crate) fn get(&self, name: &str) -> Option<SinkRef<'_>> {
        self.sinks.get(name).map(|sink| SinkRef {
            sink,
            enricher: &self.enricher,
        })
    }

    /// The sinks that report a repost of an alerted listing (MISP, as a
    /// sighting); the others hear of an alert once.
    pub(crate) fn sighting_sinks(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .sinks
            .iter()
            .filter(|(_, s)| matches!(s, Sink::Misp(_)))
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names
    }
}

/// The JSON a sink receives for one alert: the alert plus its id.
pub(crate) fn payload(delivery: &Delivery) -> serde_json::Value {
    let mut value = serde_json::to_value(&delivery.alert).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("alert_id".into(), delivery.alert_id.into());
    }
    value
}

/// `sha256=<hex>` HMAC of `body` with `secret`.
pub(crate) fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl SinkRef<'_> {
    /// Whether this sink takes sighting deliveries.
    pub(crate) fn takes_sightings(&self) -> bool {
        matches!(self.sink, Sink::Misp(_))
    }

    /// How `deliveries` go out: groups of indices, each sent by one
    /// [`deliver`](Self::deliver) call (one message, request or line each,
    /// except a digest, which is one message for its group). `delivery`
    /// marks each group as soon as it is out, so a crash repeats at most the
    /// group in flight.
    pub(crate) fn plan(&self, deliveries: &[Delivery]) -> Vec<Vec<usize>> {
        match self.sink {
            Sink::Email { digest: true, .. } => {
                // Critical alerts alone; the rest due together, one digest.
                let (digest, alone): (Vec<usize>, Vec<usize>) = (0..deliveries.len())
                    .partition(|&i| deliveries[i].alert.severity < watchlists::Severity::Critical);
                let mut plan: Vec<Vec<usize>> = alone.into_iter().map(|i| vec![i]).collect();
                if !digest.is_empty() {
                    plan.push(digest);
                }
                plan
            }
            _ => (0..deliveries.len()).map(|i| vec![i]).collect(),
        }
    }

    /// Sends one group of [`plan`](Self::plan) (a delivery, or a digest).
    pub(crate) async fn deliver(&self, group: &[Delivery]) -> Result<(), String> {
        match self.sink {
            Sink::Jsonl(path) => {
                append_jsonl(path, group).map_err(|e| format!("{}: {e}", path.display()))
            }
            Sink::Webhook {
                client,
                url,
                secret,
            } => {
                for d in group {
                    let body = payload(d).to_string().into_bytes();
                    let sent = client
                        .post(url.clone())
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(
                            SIGNATURE_HEADER,
                            signature(secret.expose().as_bytes(), &body),
                        )
                        .header(DELIVERY_HEADER, d.id.to_string())
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {}
                        Ok(r) => return Err(format!("{url}: HTTP {}", r.status().as_u16())),
                        Err(e) => return Err(format!("{url}: {e}")),
                    }
                }
                Ok(())
            }
            Sink::Email {
                transport,
                from,
                to,
                ..
            } => send_mail(transport, from, to, alert_mail(group)).await,
            Sink::Taxii(taxii) => {
                for d in group {
                    taxii.push(&self.enricher.export_alert(d)?).await?;
                }
                Ok(())
            }
            Sink::Misp(misp) => {
                for d in group {
                    let alert = self.enricher.export_alert(d)?;
                    match &d.sighting {
                        None => misp.add_alert(&alert).await?,
                        Some(repost) => misp.add_sighting(&alert, repost).await?,
                    }
                }
                Ok(())
            }
        }
    }

    /// Sends an operator event: a line in a JSON-lines file, a signed POST
    /// (header `X-Leakwatch-Event`), a mail. TAXII and MISP take alerts
    /// only: nothing is sent there.
    pub(crate) async fn deliver_event(&self, event: &OperatorEvent) -> Result<(), String> {
        let body = event.payload().to_string();
        match self.sink {
            Sink::Jsonl(path) => append_text(path, &format!("{body}\n"))
                .map_err(|e| format!("{}: {e}", path.display())),
            Sink::Webhook {
                client,
                url,
                secret,
            } => {
                let sent = client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(
                        SIGNATURE_HEADER,
                        signature(secret.expose().as_bytes(), body.as_bytes()),
                    )
                    .header(DELIVERY_HEADER, format!("event-{}", event.id))
                    .header(EVENT_HEADER, event.kind.as_str())
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(format!("{url}: HTTP {}", r.status().as_u16())),
                    Err(e) => Err(format!("{url}: {e}")),
                }
            }
            Sink::Email {
                transport,
                from,
                to,
                ..
            } => {
                let mail = Mail {
                    subject: format!("[leakwatch] operator: {} needs a human", event.site),
                    id: format!("event.{}", event.id),
                    body: format!("{}\n\n{}\n", event.message, event.at),
                };
                send_mail(transport, from, to, mail).await
            }
            Sink::Taxii(_) | Sink::Misp(_) => Ok(()),
        }
    }

    /// For a JSON-lines sink, the alerts its file already holds (read from
    /// its last 8 MB): a crash between writing a line and marking it
    /// delivered must not write it again. Empty for other sinks.
    pub(crate) fn already_written(&self) -> std::collections::HashSet<i64> {
        let Sink::Jsonl(path) = self.sink else {
            return Default::default();
        };
        let Ok(mut file) = std::fs::File::open(path) else {
            return Default::default();
        };
        use std::io::{Read, Seek, SeekFrom};
        let len = file.metadata().map_or(0, |m| m.len());
        let from = len.saturating_sub(8 << 20);
        let mut tail = Vec::new();
        if file.seek(SeekFrom::Start(from)).is_err() || file.read_to_end(&mut tail).is_err() {
            return Default::default();
        }
        String::from_utf8_lossy(&tail)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|v| v.get("alert_id").and_then(serde_json::Value::as_i64))
            .collect()
    }
}

fn append_jsonl(path: &PathBuf, deliveries: &[Delivery]) -> std::io::Result<()> {
    let mut text = String::new();
    for d in deliveries {
        text.push_str(&payload(d).to_string());
        text.push('\n');
    }
    append_text(path, &text)
}

/// Appends `text` to the file at `path` (made with its folder if needed)
/// and syncs it.
fn append_text(path: &PathBuf, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// One plain-text message.
struct Mail {
    subject: String,
    /// The local part of its Message-ID: the same content always has the
    /// same id, so a message sent again after a crash is recognisably the
    /// same one.
    id: String,
    body: String,
}

/// The message for a group of alert deliveries (one alert, or a digest).
fn alert_mail(deliveries: &[Delivery]) -> Mail {
    let subject = match deliveries {
        [one] => format!(
            "[leakwatch] {:?}: {}/{} offered on {}",
            one.alert.severity,
            one.alert.customer,
            one.alert.asset,
            one.alert.site.as_deref().unwrap_or("a watched site")
        ),
        many => format!("[leakwatch] digest: {} alerts", many.len()),
    };
    let body: Vec<String> = deliveries
        .iter()
        .map(|d| format_alert(&d.alert, Some(d.alert_id), false))
        .collect();
    let ids: Vec<String> = deliveries.iter().map(|d| d.id.to_string()).collect();
    Mail {
        subject,
        id: format!("delivery.{}", ids.join(".")),
        body: body.join("\n\n"),
    }
}

async fn send_mail(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &lettre::message::Mailbox,
    to: &[lettre::message::Mailbox],
    mail: Mail,
) -> Result<(), String> {
    let domain = from.email.domain().to_owned();
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(mail.subject)
        .message_id(Some(format!("<leakwatch.{}@{domain}>", mail.id)));
    for t in to {
        builder = builder.to(t.clone());
    }
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body)
        .map_err(|e| format!("cannot build the message: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
