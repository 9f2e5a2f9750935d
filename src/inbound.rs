//! inbound
