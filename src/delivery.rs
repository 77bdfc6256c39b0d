//! Delivery of what the outbox holds: takes due deliveries from the alert
//! store, hands each to its sink, marks it done or schedules a retry with
//! exponential backoff. Deliveries survive restarts (they are rows in the
//! outbox, not memory); nothing here queues or records an alert.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use watchlists::{Alert, Severity};

use crate::alert_store::{AlertStore, Delivery};
use crate::config::{Digest, SinkConfig, SinkKind};
use crate::operator_events;
use crate::sinks::Sinks;

/// When the first attempt to deliver `alert` to `sink` is due (unix seconds):
/// now, or for an e-mail digest the end of the current digest period
/// (critical alerts are always mailed at once).
pub(crate) fn first_attempt(sink: &SinkConfig, alert: &Alert, now: i64) -> i64 {
    match &sink.kind {
        SinkKind::Email {
            digest: Digest::Every(period),
            ..
        } if alert.severity < Severity::Critical => {
            let p = period.as_secs().max(1) as i64;
            (now / p + 1) * p
        }
        _ => now,
    }
}

/// Delay before retry number `attempts` (1-based): 2 s doubling to one hour,
/// with ±20 % jitter.
pub(crate) fn retry_delay(attempts: u32) -> Duration {
    let base = Duration::from_secs(2).saturating_mul(1 << attempts.saturating_sub(1).min(11));
    let base = base.min(Duration::from_secs(3600));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    base.mul_f64(0.8 + f64::from(nanos % 1000) / 2500.0)
}

/// What one round of deliveries did.
#[derive(Debug, Default, Clone)]
pub(crate) struct RoundStats {
    /// Deliveries made, per sink.
    pub delivered: BTreeMap<String, u64>,
    pub failed: u64,
}

/// Delivers every due delivery once. Deliveries of one e-mail sink that are
/// due together go out as one digest. Each message, request or line is
/// marked delivered as soon as it is out.
pub(crate) async fn deliver_due(store: &AlertStore, sinks: &Sinks) -> anyhow::Result<RoundStats> {
    let now = Utc::now().timestamp();
    let due = store.due_deliveries(now, 1000)?;
    let mut by_sink: BTreeMap<String, Vec<Delivery>> = BTreeMap::new();
    for d in due {
        by_sink.entry(d.sink.clone()).or_default().push(d);
    }
    let mut stats = RoundStats::default();
    for (name, deliveries) in by_sink {
        let Some(sink) = sinks.get(&name) else {
            // A sink removed from the config: its queue waits until it returns.
            tracing::warn!(sink = %name, pending = deliveries.len(), "deliveries for a sink that is no longer configured");
            continue;
        };
        // A sighting queued for a sink that no longer takes them (its kind
        // changed under the same name): nothing to send.
        let (deliveries, stale): (Vec<Delivery>, Vec<Delivery>) = deliveries
            .into_iter()
            .partition(|d| d.sighting.is_none() || sink.takes_sightings());
        for d in stale {
            store.delivered(&d)?;
        }
        for group in sink.plan(&deliveries) {
            let group: Vec<Delivery> = group.into_iter().map(|i| deliveries[i].clone()).collect();
            let result = sink.deliver(&group).await;
            for delivery in &group {
                match &result {
                    Ok(()) => {
                        store.delivered(delivery)?;
                        let what = if delivery.sighting.is_some() {
                            "sighting"
                        } else {
                            "alert"
                        };
                        tracing::info!(sink = %name, alert = delivery.alert_id, what, "delivered");
                        *stats.delivered.entry(name.clone()).or_default() += 1;
                    }
                    Err(error) => {
                        let delay = retry_delay(delivery.attempts + 1);
                        let next = now + delay.as_secs().max(1) as i64;
                        store.failed(delivery, error, next)?;
                        stats.failed += 1;
                        tracing::warn!(sink = %name, alert = delivery.alert_id, attempts = delivery.attempts + 1, %error, retry_in_s = delay.as_secs(), "delivery failed");
                    }
                }
            }
        }
    }
    Ok(stats)
}

/// Delivers every due operator event once to each of its sinks; returns
/// how many went out.
pub(crate) async fn deliver_events(store: &AlertStore, sinks: &Sinks) -> anyhow::Result<u64> {
    let now = Utc::now().timestamp();
    let mut sent = 0;
    for d in operator_events::due(store, now)? {
        let Some(sink) = sinks.get(&d.sink) else {
            continue;
        };
        match sink.deliver_event(&d.event).await {
            Ok(()) => {
                operator_events::delivered(store, d.event.id, &d.sink)?;
                tracing::info!(sink = %d.sink, site = %d.event.site, event = %d.event.kind, "operator event delivered");
                sent += 1;
            }
            Err(error) => {
                let delay = retry_delay(d.attempts + 1);
                let next = now + delay.as_secs().max(1) as i64;
                operator_events::failed(store, d.event.id, &d.sink, &error, next)?;
                tracing::warn!(sink = %d.sink, site = %d.event.site, %error, retry_in_s = delay.as_secs(), "operator event delivery failed");
            }
        }
    }
    Ok(sent)
}

/// At start: marks delivered what a JSON-lines sink's file already holds
/// (written just before a crash, not yet marked). Returns how many.
pub(crate) fn reconcile(store: &AlertStore, sinks: &Sinks) -> anyhow::Result<usize> {
    let pending = store.due_deliveries(i64::MAX, usize::MAX >> 1)?;
    let mut written: BTreeMap<String, std::collections::HashSet<i64>> = BTreeMap::new();
    let mut marked = 0;
    for d in pending.into_iter().filter(|d| d.sighting.is_none()) {
        let Some(sink) = sinks.get(&d.sink) else {
            continue;
        };
        let file = written
            .entry(d.sink.clone())
            .or_insert_with(|| sink.already_written());
        if file.contains(&d.alert_id) {
            store.delivered(&d)?;
            marked += 1;
            tracing::info!(sink = %d.sink, alert = d.alert_id, "already in the file before the restart; marked delivered");
        }
    }
    Ok(marked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_wait_for_the_period_except_critical() {
        let sink = SinkConfig {
            name: "m".into(),
            customers: vec![],
            kind: SinkKind::Email {
                host: "h".into(),
                port: 25,
                security: crate::config::SmtpSecurity::None,
                from: "a@b.c".into(),
                to: vec!["a@b.c".into()],
                digest: Digest::Every(Duration::from_secs(3600)),
                credentials: None,
            },
        };
        let mut alert: Alert = serde_json::from_str(
            r#"{"doc_id":"d","customer":"c","asset":"a","asset_name":"A","severity":"high","terms":[],"context":[],"snippet":"","url":null,"site":null}"#,
        )
        .expect("alert");
        assert_eq!(first_attempt(&sink, &alert, 7200 + 5), 10_800);
        alert.severity = Severity::Critical;
        assert_eq!(first_attempt(&sink, &alert, 7205), 7205);
        assert!(retry_delay(1) < Duration::from_secs(3));
        assert!(retry_delay(30) <= Duration::from_secs(4320));
    }
}
