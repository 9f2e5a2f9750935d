//! The cal.com bodies the benchmark sends, made from the wire fixtures with a fresh
//! `createdAt` (hookseal refuses events older than `max_event_age` with 422).

use std::path::Path;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The secret the hop rows sign with, as cal.com would.
pub const CALCOM_SECRET: &str = "bench-secret-not-real";

/// The booking uids and ids of the fixtures' chain, replaced per simulated booking.
const FIRST_UID: &str = "3rTqW8mZkP1vYx6NcB2dLs";
const SECOND_UID: &str = "9hGf2KsLw4QzXc7VbN1mPr";
const FIRST_ID: &str = "1042";
const SECOND_ID: &str = "1051";

/// The fixtures of a booking's life: created, rescheduled to a new booking, cancelled.
const LIFE: [&str; 3] = [
    "01-booking-created",
    "02-booking-rescheduled",
    "03-booking-cancelled",
];

/// The fixtures, read once.
#[derive(Debug)]
pub struct Fixtures {
    life: Vec<String>,
}

impl Fixtures {
    /// Reads the fixtures under `repo`.
    pub fn load(repo: &Path) -> std::io::Result<Self> {
        let folder = repo.join("tests/fixtures/calcom/wire");
        let life = LIFE
            .iter()
            .map(|name| std::fs::read_to_string(folder.join(format!("{name}.body"))))
            .collect::<Result<_, _>>()?;
        Ok(Self { life })
    }

    /// BOOKING_CREATED as cal.com sends it, created now.
    pub fn created_now(&self) -> String {
        with_created_at(&self.life[0], OffsetDateTime::now_utc())
    }

    /// The three events of `bookings` bookings' lives, one body per line: booking `n` is created
    /// with its own metadata, rescheduled to a new booking, and the new booking is cancelled.
    /// Every body has its own `createdAt`, so each is a distinct event.
    pub fn lives(&self, first: usize, bookings: usize) -> Vec<String> {
        let now = OffsetDateTime::now_utc();
        let mut bodies = Vec::with_capacity(bookings * LIFE.len());
        for booking in first..first + bookings {
            for (step, template) in self.life.iter().enumerate() {
                let offset = (booking * LIFE.len() + step) as i64;
                let created_at = now - Duration::milliseconds(offset);
                bodies.push(for_booking(template, booking, created_at));
            }
        }
        bodies
    }
}

/// `template` about booking `n`: its uids, ids and customer id made unique.
fn for_booking(template: &str, n: usize, created_at: OffsetDateTime) -> String {
    let body = template
        .replace(FIRST_UID, &format!("bench{n:08}a"))
        .replace(SECOND_UID, &format!("bench{n:08}b"))
        .replace(
            &format!(":{FIRST_ID},"),
            &format!(":{},", 10_000_000 + 2 * n),
        )
        .replace(
            &format!(":{SECOND_ID},"),
            &format!(":{},", 10_000_001 + 2 * n),
        )
        .replace("cus_123", &format!("cus_{n}"));
    with_created_at(&body, created_at)
}

/// Replaces the envelope's first `createdAt` with `at`.
fn with_created_at(body: &str, at: OffsetDateTime) -> String {
    const KEY: &str = "\"createdAt\":\"";
    let Some(start) = body.find(KEY).map(|start| start + KEY.len()) else {
        return body.to_owned();
    };
    let end = start + body[start..].find('"').expect("the string is closed");
    let stamp = at.format(&Rfc3339).expect("a time formats");
    format!("{}{stamp}{}", &body[..start], &body[end..])
}

/// cal.com's signature of `body`.
pub fn calcom_signature(body: &[u8]) -> String {
    use hmac::Mac as _;

    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(CALCOM_SECRET.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
