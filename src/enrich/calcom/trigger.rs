//! The `triggerEvent` values whose bodies the profile reads differently.

/// Its `metadata` is payment data, not the booking's.
pub(super) const BOOKING_PAID: &str = "BOOKING_PAID";

/// The booking sits under `payload.booking`.
pub(super) const WRONG_ASSIGNMENT_REPORT: &str = "WRONG_ASSIGNMENT_REPORT";

/// Sent without the envelope, the booking row at the top level.
const MEETINGS: [&str; 2] = ["MEETING_STARTED", "MEETING_ENDED"];

/// The booking uid is `bookingUid`.
const NO_SHOWS: [&str; 3] = [
    "BOOKING_NO_SHOW_UPDATED",
    "AFTER_HOSTS_CAL_VIDEO_NO_SHOW",
    "AFTER_GUESTS_CAL_VIDEO_NO_SHOW",
];

/// A `rescheduleUid` on these links the booking to its predecessor.
const RESCHEDULES: [&str; 3] = [
    "BOOKING_RESCHEDULED",
    "BOOKING_REQUESTED",
    "BOOKING_PAYMENT_INITIATED",
];

/// MEETING_STARTED or MEETING_ENDED.
pub(super) fn is_meeting(trigger: &str) -> bool {
    MEETINGS.contains(&trigger)
}

/// One of the no-show events.
pub(super) fn is_no_show(trigger: &str) -> bool {
    NO_SHOWS.contains(&trigger)
}

/// An event whose `rescheduleUid` names the booking's predecessor.
pub(super) fn may_reschedule(trigger: &str) -> bool {
    RESCHEDULES.contains(&trigger)
}
