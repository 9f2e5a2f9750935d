//! `hookseal demo` runs on its own and proves what it claims: every event delivered, the
//! lineage and metadata added, and every signature verified by the receiver.

mod support;

#[test]
fn demo_replays_the_lifecycle_and_every_signature_verifies() {
    let (ok, stdout, stderr) = support::cli(&["demo"]);
    assert!(ok, "demo failed: {stderr}\n{stdout}");
    assert_eq!(
        stdout.matches("standard-webhooks verified").count(),
        8,
        "{stdout}"
    );
    assert_eq!(stdout.matches("calcom verified").count(), 8, "{stdout}");
    assert!(!stdout.contains("FAILED"));
    assert!(stdout.contains(
        "in:       booking uid 3rTqW8mZkP1vYx6NcB2dLs, metadata {\"customer_id\":\"cus_123\""
    ));
    assert!(stdout.contains("previousBookingUid = \"9hGf2KsLw4QzXc7VbN1mPr\""));
    assert!(
        stdout.contains("bookingMetadata = {\"customer_id\":\"cus_123\",\"utm_source\":\"crm\"}")
    );
    assert_eq!(
        stdout.matches("nothing (forwarded byte for byte)").count(),
        2
    );
}
