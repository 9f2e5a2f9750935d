//! Enrichment: what hookseal adds to an event from what it remembers of the booking.
//!
//! `calcom` is the one profile: it reads the facts of a cal.com event ([`calcom::inspect`]),
//! decides what to add and what to remember ([`calcom::plan`]), and writes the additions into
//! the body without touching any other byte ([`calcom::apply`]).

pub mod calcom;
pub mod splice;
