//! The operator's view of stored events: filters, listings, replay and purge, shared by the
//! `hookseal deliveries` command.

use std::fmt::Write as _;
use std::time::Duration;

use crate::deliver::worker::now_ms;
use crate::store::{EventState, Filter, Store, StoredEvent};

/// Which events a command applies to; unset fields match everything.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Selection {
    /// Queue sequence number of one event.
    #[arg(long)]
    pub seq: Option<i64>,
    /// Route name.
    #[arg(long)]
    pub route: Option<String>,
    /// Event state.
    #[arg(long, value_enum)]
    pub state: Option<EventState>,
    /// Booking uid.
    #[arg(long)]
    pub booking: Option<String>,
    /// Event id.
    #[arg(long)]
    pub event_id: Option<String>,
    /// Only events accepted longer ago than this, such as `2h` or `7days`.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub older_than: Option<Duration>,
}

impl Selection {
    /// The store filter for this selection, evaluated at `now_ms`.
    pub fn filter(&self, now_ms: i64) -> Filter {
        Filter {
            seq: self.seq,
            route: self.route.clone(),
            state: self.state,
            booking_uid: self.booking.clone(),
            event_id: self.event_id.clone(),
            accepted_before_ms: self
                .older_than
                .map(|age| now_ms - i64::try_from(age.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// Whether nothing narrows the selection.
    pub fn is_everything(&self) -> bool {
        self.filter(0).seq.is_none()
            && self.route.is_none()
            && self.state.is_none()
            && self.booking.is_none()
            && self.event_id.is_none()
            && self.older_than.is_none()
    }
}

/// A table of the selected events, newest first, after a line for each paused route.
///
/// # Errors
/// The store cannot be read.
pub async fn list(
    store: &dyn Store,
    selection: &Selection,
    limit: usize,
) -> anyhow::Result<String> {
    let events = store.list(&selection.filter(now_ms()), limit).await?;
    let mut out = String::new();
    for (route, reason) in store.stats().await?.paused {
        let _ = writeln!(
            out,
            "route {route} is PAUSED ({reason}): resume it with `deliveries resume`"
        );
    }
    out.push_str("SEQ\tROUTE\tSTATE\tATTEMPTS\tLAST\tEVENT\tBOOKING\tEVENT ID\n");
    for event in &events {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            event.seq,
            event.route,
            state_name(event.state),
            event.attempts,
            event
                .last_status
                .map_or("-".to_owned(), |status| status.to_string()),
            event.trigger.as_deref().unwrap_or("-"),
            event.booking_uid.as_deref().unwrap_or("-"),
            event.event_id
        );
    }
    Ok(out)
}

/// The selected events in full, as JSON lines with their bodies.
///
/// # Errors
/// An empty selection without `all`, the store cannot be read, or nothing matches.
pub async fn show(store: &dyn Store, selection: &Selection, all: bool) -> anyhow::Result<String> {
    // Bodies hold names and emails: show them one selection at a time.
    anyhow::ensure!(
        all || !selection.is_everything(),
        "refusing to show every event without --all"
    );
    let events = store.list(&selection.filter(now_ms()), 100).await?;
    anyhow::ensure!(!events.is_empty(), "no stored event matches");
    let mut out = String::new();
    for event in &events {
        out.push_str(&detail(event).to_string());
        out.push('\n');
    }
    Ok(out)
}

/// One event as JSON, with its body as text.
pub fn detail(event: &StoredEvent) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    value["body"] = String::from_utf8_lossy(&event.body).into_owned().into();
    value
}

/// Makes the selected waiting events due now, and replays dead ones with a fresh attempt count.
///
/// # Errors
/// An empty selection without `all`, or the store cannot be written.
pub async fn retry(store: &dyn Store, selection: &Selection, all: bool) -> anyhow::Result<u64> {
    anyhow::ensure!(
        all || !selection.is_everything(),
        "refusing to retry every event without --all"
    );
    Ok(store.retry(&selection.filter(now_ms()), now_ms()).await?)
}

/// Deletes the selected events. An empty selection is refused unless `all` is set.
///
/// # Errors
/// An empty selection without `all`, or the store cannot be written.
pub async fn purge(store: &dyn Store, selection: &Selection, all: bool) -> anyhow::Result<u64> {
    anyhow::ensure!(
        all || !selection.is_everything(),
        "refusing to purge every event without --all"
    );
    Ok(store.purge(&selection.filter(now_ms())).await?)
}

/// The lower-case name of a state.
pub fn state_name(state: EventState) -> &'static str {
    match state {
        EventState::Pending => "pending",
        EventState::Retrying => "retrying",
        EventState::Delivered => "delivered",
        EventState::Dead => "dead",
    }
}
