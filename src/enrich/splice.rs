//! Byte-preserving edits of a JSON object: add members, replace one member's value.
