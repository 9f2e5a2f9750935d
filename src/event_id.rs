//! event_id
