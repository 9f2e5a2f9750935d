//! The delivery API's query string: which stored events a request applies to.
//!
//! Unknown keys are refused rather than ignored: a misspelt filter on a purge would otherwise
//! widen it to every event.

use std::time::Duration;

use crate::store::{EventState, Filter};

/// Events listed when `limit` is not given.
const DEFAULT_LIMIT: usize = 100;

/// The most events one listing returns.
const MAX_LIMIT: usize = 1000;

/// A parsed query: the filter, the listing limit and the purge guard.
#[derive(Debug, Default)]
pub(super) struct Query {
    pub(super) filter: Filter,
    pub(super) limit: usize,
    pub(super) all: bool,
}

/// Why a query was refused; the message goes back to the operator.
#[derive(Debug, thiserror::Error)]
pub(super) enum BadQuery {
    #[error(
        "unknown query key {0:?}; known: route, state, booking, event_id, older_than, limit, all"
    )]
    UnknownKey(String),
    #[error("`state` must be pending, retrying, delivered or dead")]
    State,
    #[error("`older_than` must be a duration such as 30m or 2h")]
    OlderThan,
    #[error("`limit` must be a number from 1 to {MAX_LIMIT}")]
    Limit,
    #[error("`all` must be true or false")]
    All,
}

impl Query {
    /// Parses `query` (without the `?`); `now_ms` anchors `older_than`.
    pub(super) fn parse(query: Option<&str>, now_ms: i64) -> Result<Self, BadQuery> {
        let mut parsed = Self {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        };
        let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes());
        for (key, value) in pairs {
            parsed.set(&key, value.into_owned(), now_ms)?;
        }
        Ok(parsed)
    }

    /// Whether the filter selects a subset (anything but every event).
    pub(super) fn narrows(&self) -> bool {
        let filter = &self.filter;
        filter.seq.is_some()
            || filter.route.is_some()
            || filter.state.is_some()
            || filter.booking_uid.is_some()
            || filter.event_id.is_some()
            || filter.accepted_before_ms.is_some()
    }

    fn set(&mut self, key: &str, value: String, now_ms: i64) -> Result<(), BadQuery> {
        let filter = &mut self.filter;
        match key {
            "route" => filter.route = Some(value),
            "booking" => filter.booking_uid = Some(value),
            "event_id" => filter.event_id = Some(value),
            "state" => filter.state = Some(state(&value)?),
            "older_than" => {
                let age = humantime::parse_duration(&value).map_err(|_| BadQuery::OlderThan)?;
                filter.accepted_before_ms = Some(now_ms.saturating_sub(millis(age)));
            }
            "limit" => self.limit = limit(&value)?,
            "all" => self.all = value.parse().map_err(|_| BadQuery::All)?,
            _ => return Err(BadQuery::UnknownKey(key.to_owned())),
        }
        Ok(())
    }
}

fn state(value: &str) -> Result<EventState, BadQuery> {
    match value {
        "pending" => Ok(EventState::Pending),
        "retrying" => Ok(EventState::Retrying),
        "delivered" => Ok(EventState::Delivered),
        "dead" => Ok(EventState::Dead),
        _ => Err(BadQuery::State),
    }
}

fn limit(value: &str) -> Result<usize, BadQuery> {
    match value.parse() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        _ => Err(BadQuery::Limit),
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_older_than_counts_back_from_now() {
        let query = Query::parse(
            Some("route=crm&state=dead&older_than=1h&limit=5"),
            7_200_000,
        );
        let query = query.unwrap();
        assert_eq!(query.filter.route.as_deref(), Some("crm"));
        assert_eq!(query.filter.state, Some(EventState::Dead));
        assert_eq!(query.filter.accepted_before_ms, Some(3_600_000));
        assert_eq!(query.limit, 5);
        assert!(query.narrows());
    }

    #[test]
    fn an_empty_query_selects_everything_and_unknown_keys_are_refused() {
        let query = Query::parse(None, 0).unwrap();
        assert!(!query.narrows());
        assert_eq!(query.limit, DEFAULT_LIMIT);
        assert!(matches!(
            Query::parse(Some("rout=crm"), 0),
            Err(BadQuery::UnknownKey(_))
        ));
        assert!(Query::parse(Some("limit=0"), 0).is_err());
        assert!(Query::parse(Some("state=gone"), 0).is_err());
    }
}
