//! Event ids: derived from the sender's own identity of an event where it has one, so that a
//! repeat of the same event carries the same id, and random otherwise.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::enrich::calcom::Event;

/// The id of `event` on `route`: derived from the event's identity where it has one, so that
/// a sender's repeat gets the same id, and fresh otherwise (templates, `false`, non-JSON).
pub fn of(route: &str, event: Option<&Event>) -> String {
    match event.and_then(Event::identity) {
        Some(identity) => derived(route, &identity),
        None => fresh(),
    }
}

/// The id of an event that has an identity (`trigger`, booking, `createdAt`) on `route`.
///
/// The id is a UUID (version 8) made of the first 16 bytes of a SHA-256 over the route name and
/// the identity, so distinct events never share one and a repeat always does.
pub fn derived(route: &str, identity: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"hookseal event id v1\0");
    hasher.update(route.as_bytes());
    hasher.update(b"\0");
    hasher.update(identity.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes).to_string()
}

/// A fresh random id, for bodies without an identity (templates, `false`).
pub fn fresh() -> String {
    Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_identity_same_id_and_routes_differ() {
        let a = derived(
            "crm",
            "BOOKING_CREATED\u{0}uid\u{0}2026-03-02T09:14:07.512Z",
        );
        assert_eq!(
            a,
            derived(
                "crm",
                "BOOKING_CREATED\u{0}uid\u{0}2026-03-02T09:14:07.512Z"
            )
        );
        assert_ne!(
            a,
            derived(
                "billing",
                "BOOKING_CREATED\u{0}uid\u{0}2026-03-02T09:14:07.512Z"
            )
        );
        assert_ne!(
            a,
            derived(
                "crm",
                "BOOKING_CANCELLED\u{0}uid\u{0}2026-03-02T09:14:07.512Z"
            )
        );
        assert!(!a.contains('.'));
    }

    #[test]
    fn fresh_ids_differ() {
        assert_ne!(fresh(), fresh());
    }
}
