//! The retry policy: what an attempt's outcome means for the event. Pure, with time passed in.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use crate::store::Finish;

/// The longest `Retry-After` honoured; a larger one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Jitter adds up to this fraction of a delay, so that a crowd of failures spreads out.
const JITTER_FRACTION: f64 = 0.1;

/// An attempt's outcome, as far as the policy cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The upstream answered with a status (and perhaps `Retry-After`).
    Answered {
        /// The status.
        status: StatusCode,
        /// A `Retry-After` delay from a 429 or 503.
        retry_after: Option<Duration>,
    },
    /// No answer: refused connection, broken connection or timeout.
    Failed(String),
}

/// What happens next to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What to record.
    pub finish: Finish,
    /// Whether the route must be paused (a 410 from its upstream).
    pub pause_route: bool,
}

/// Judges an attempt. `attempts_before` counts earlier attempts; `schedule[n]` is the delay
/// before attempt `n + 1`, so an event has `schedule.len()` attempts in all. `jitter` is a
/// number in `[0, 1)`.
pub fn judge(
    outcome: &Outcome,
    attempts_before: u32,
    schedule: &[Duration],
    now_ms: i64,
    jitter: f64,
) -> Verdict {
    let (status, retry_after, error) = match outcome {
        Outcome::Answered {
            status,
            retry_after,
        } => (
            Some(*status),
            *retry_after,
            format!("upstream answered {}", status.as_u16()),
        ),
        Outcome::Failed(error) => (None, None, error.clone()),
    };
    let code = status.map(|status| status.as_u16());
    if status.is_some_and(|status| status.is_success()) {
        return verdict(
            Finish::Delivered {
                status: code.unwrap_or(200),
            },
            false,
        );
    }
    if status == Some(StatusCode::GONE) {
        let error = "upstream answered 410 Gone; route paused".to_owned();
        return verdict(
            Finish::Dead {
                error,
                status: code,
            },
            true,
        );
    }
    let next = attempts_before as usize + 1;
    let Some(delay) = schedule.get(next) else {
        return verdict(
            Finish::Dead {
                error,
                status: code,
            },
            false,
        );
    };
    let jittered = delay.mul_f64(1.0 + JITTER_FRACTION * jitter.clamp(0.0, 1.0));
    let wait = retry_after.map_or(jittered, |asked| asked.min(MAX_RETRY_AFTER).max(jittered));
    let at_ms = now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
    verdict(
        Finish::Retry {
            at_ms,
            error,
            status: code,
        },
        false,
    )
}

fn verdict(finish: Finish, pause_route: bool) -> Verdict {
    Verdict {
        finish,
        pause_route,
    }
}

/// The `Retry-After` of a 429 or 503 answer: delay seconds or an HTTP date.
pub fn retry_after(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Vec<Duration> {
        [0, 5, 300]
            .iter()
            .map(|secs| Duration::from_secs(*secs))
            .collect()
    }

    fn answered(status: u16) -> Outcome {
        Outcome::Answered {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
        }
    }

    #[test]
    fn success_is_delivered() {
        let verdict = judge(&answered(204), 0, &schedule(), 1_000, 0.5);
        assert_eq!(verdict.finish, Finish::Delivered { status: 204 });
    }

    #[test]
    fn failures_follow_the_schedule_then_die() {
        for outcome in [
            answered(500),
            answered(302),
            answered(404),
            Outcome::Failed("refused".into()),
        ] {
            let first = judge(&outcome, 0, &schedule(), 1_000, 0.0);
            assert!(
                matches!(first.finish, Finish::Retry { at_ms: 6_000, .. }),
                "{outcome:?}"
            );
            let second = judge(&outcome, 1, &schedule(), 1_000, 0.0);
            assert!(matches!(
                second.finish,
                Finish::Retry { at_ms: 301_000, .. }
            ));
            let last = judge(&outcome, 2, &schedule(), 1_000, 0.0);
            assert!(matches!(last.finish, Finish::Dead { .. }), "{outcome:?}");
        }
    }

    #[test]
    fn jitter_only_delays() {
        let verdict = judge(&answered(503), 0, &schedule(), 0, 0.999);
        let Finish::Retry { at_ms, .. } = verdict.finish else {
            panic!("{verdict:?}")
        };
        assert!((5_000..=5_500).contains(&at_ms), "{at_ms}");
    }

    #[test]
    fn gone_kills_at_once_and_pauses() {
        let verdict = judge(&answered(410), 0, &schedule(), 0, 0.0);
        assert!(verdict.pause_route);
        assert!(matches!(
            verdict.finish,
            Finish::Dead {
                status: Some(410),
                ..
            }
        ));
    }

    #[test]
    fn retry_after_is_honoured_when_longer() {
        let outcome = Outcome::Answered {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(60)),
        };
        let verdict = judge(&outcome, 0, &schedule(), 0, 0.0);
        assert!(matches!(
            verdict.finish,
            Finish::Retry { at_ms: 60_000, .. }
        ));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "120".parse().unwrap());
        let status = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            retry_after(status, &headers, now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        headers.insert("retry-after", later.parse().unwrap());
        assert_eq!(
            retry_after(StatusCode::SERVICE_UNAVAILABLE, &headers, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(StatusCode::BAD_GATEWAY, &headers, now), None);
    }
}
