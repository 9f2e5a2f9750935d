//! The demo's bundled cal.com booking lifecycle: the test fixtures, re-dated to now and joined
//! into one reschedule chain (A, then B, then C).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const CREATED: &str = include_str!("../../tests/fixtures/calcom/wire/01-booking-created.body");
const RESCHEDULED: &str =
    include_str!("../../tests/fixtures/calcom/wire/02-booking-rescheduled.body");
const CANCELLED: &str = include_str!("../../tests/fixtures/calcom/wire/03-booking-cancelled.body");
const MEETING_ENDED: &str = include_str!("../../tests/fixtures/calcom/wire/04-meeting-ended.body");
const PAID: &str = include_str!("../../tests/fixtures/calcom/wire/06-booking-paid.body");
const NO_SHOW: &str =
    include_str!("../../tests/fixtures/calcom/wire/08-booking-no-show-updated.body");
const TEMPLATE: &str =
    include_str!("../../tests/fixtures/calcom/wire/09-custom-template-form.body");

const BOOKING_A: &str = "3rTqW8mZkP1vYx6NcB2dLs";
const BOOKING_B: &str = "9hGf2KsLw4QzXc7VbN1mPr";
const BOOKING_C: &str = "Kx7mP2qR9sT4vW6yZ8aBcD";

/// One webhook as cal.com would send it.
#[derive(Debug)]
pub struct Step {
    /// What the step shows.
    pub title: &'static str,
    /// The exact body.
    pub body: Vec<u8>,
    /// The body's content type.
    pub content_type: &'static str,
    /// Whether cal.com signs it (some builds send MEETING_* unsigned).
    pub signed: bool,
}

/// The lifecycle, in the order cal.com would send it.
pub fn steps() -> Vec<Step> {
    let again = RESCHEDULED
        .replace(&uid(BOOKING_B), &uid(BOOKING_C))
        .replace(BOOKING_A, BOOKING_B)
        .replace("\"bookingId\":1051", "\"bookingId\":1063")
        .replace("\"rescheduleId\":1042", "\"rescheduleId\":1051");
    let cancelled = CANCELLED
        .replace(BOOKING_B, BOOKING_C)
        .replace("\"bookingId\":1051", "\"bookingId\":1063");
    let meeting = MEETING_ENDED
        .replace("Vq5nHt8RcX2wLm9KpZ3aJd", BOOKING_C)
        .replace(
            "\"fromReschedule\":null",
            &format!("\"fromReschedule\":\"{BOOKING_B}\""),
        )
        .replace(
            "\"metadata\":{\"customer_id\":\"cus_456\"}",
            "\"metadata\":{}",
        )
        .replace(
            "\"endTime\":\"2026-03-11T10:30:00.000Z\"",
            &format!("\"endTime\":\"{}\"", now()),
        );
    let paid = PAID.replace("Zt3vB8nLq5XwR1cMk7PdGs", BOOKING_C);
    let no_show = NO_SHOW.replace("Vq5nHt8RcX2wLm9KpZ3aJd", BOOKING_C);
    vec![
        step(
            "BOOKING_CREATED: booking A, with metadata from the booking link",
            CREATED.to_owned(),
            true,
        ),
        step(
            "BOOKING_RESCHEDULED: A moved, cal.com makes booking B",
            RESCHEDULED.to_owned(),
            true,
        ),
        step(
            "BOOKING_RESCHEDULED again: B moved, cal.com makes booking C",
            again,
            true,
        ),
        step("BOOKING_CANCELLED: booking C", cancelled, true),
        step(
            "MEETING_ENDED: booking C, flat body, sent unsigned at its endTime",
            meeting,
            false,
        ),
        step(
            "BOOKING_PAID: booking C, metadata holds payment data",
            paid,
            true,
        ),
        step("BOOKING_NO_SHOW_UPDATED: booking C", no_show, true),
        Step {
            title: "custom template: form-encoded, not JSON",
            body: TEMPLATE.as_bytes().to_vec(),
            content_type: "application/x-www-form-urlencoded",
            signed: true,
        },
    ]
}

fn step(title: &'static str, body: String, signed: bool) -> Step {
    Step {
        title,
        body: redate(&body).into_bytes(),
        content_type: "application/json",
        signed,
    }
}

fn uid(value: &str) -> String {
    format!("\"uid\":\"{value}\"")
}

/// Now, as cal.com writes times.
fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Sets an envelope's `createdAt` to now, as cal.com stamps it at send time. Flat MEETING_*
/// bodies carry the booking's creation time and are left alone.
fn redate(body: &str) -> String {
    const KEY: &str = "{\"triggerEvent\":";
    const CREATED_AT: &str = "\"createdAt\":\"";
    let Some(start) = body.find(CREATED_AT).filter(|_| body.starts_with(KEY)) else {
        return body.to_owned();
    };
    if body.contains("\"triggerEvent\":\"MEETING_") {
        return body.to_owned();
    }
    let value = start + CREATED_AT.len();
    let Some(length) = body[value..].find('"') else {
        return body.to_owned();
    };
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    format!("{}{now}{}", &body[..value], &body[value + length..])
}
