//! Byte-preserving edits of a JSON object: add members, replace one member's value.
//!
//! serde_json finds the members: a borrowed [`RawValue`] is a sub-slice of the text it was read
//! from, so its address gives the value's byte offset without a hand-written parser. [`Edits`]
//! then splices new bytes in at those offsets; every other byte stays as it was.

use std::fmt;
use std::ops::Range;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

/// A JSON object read from a text: where it sits and its members, in order.
#[derive(Debug)]
pub struct Object<'a> {
    text: &'a str,
    span: Range<usize>,
    members: Vec<(String, &'a RawValue)>,
}

/// A text that cannot be edited as a JSON object.
#[derive(Debug, thiserror::Error)]
pub enum SpliceError {
    /// Not one well-formed JSON object, or nested deeper than serde_json's limit.
    #[error("not a json object: {0}")]
    NotObject(#[from] serde_json::Error),
}

/// Byte edits to one text, applied together by [`Edits::apply`].
#[derive(Debug, Default)]
pub struct Edits {
    edits: Vec<Edit>,
}

/// Replace `span` of the text by `text`; an empty span inserts.
#[derive(Debug)]
struct Edit {
    span: Range<usize>,
    text: String,
}

// --- Object ---

impl<'a> Object<'a> {
    /// Reads `text` as one JSON object.
    ///
    /// # Errors
    ///
    /// [`SpliceError::NotObject`] when `text` is not one JSON object, or is nested deeper than
    /// serde_json's recursion limit (128) anywhere.
    pub fn parse(text: &'a str) -> Result<Self, SpliceError> {
        // Raw values skip nested data without a depth limit; check the whole text once.
        serde_json::from_str::<Shallow>(text)?;
        Self::within(text, text)
    }

    /// The value of member `key`; the last one when the key repeats, as `JSON.parse` reads it.
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        let (_, value) = self.members.iter().rev().find(|(name, _)| name == key)?;
        Some(value)
    }

    /// Member `key` as an object, when it is one.
    pub fn object(&self, key: &str) -> Option<Object<'a>> {
        Self::within(self.text, self.get(key)?.get()).ok()
    }

    /// Where member `key`'s value sits in the text.
    pub fn value_span(&self, key: &str) -> Option<Range<usize>> {
        let value = self.get(key)?.get();
        let start = offset(self.text, value);
        Some(start..start + value.len())
    }

    /// Whether the object has a member `key`.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member names, in order, repeats included.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(name, _)| name.as_str())
    }

    /// Where the object sits in the text, braces included.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Reads `part`, a sub-slice of `text`, as an object.
    fn within(text: &'a str, part: &'a str) -> Result<Self, SpliceError> {
        let Members(members) = serde_json::from_str(part)?;
        let trimmed = part.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        let start = offset(text, trimmed);
        Ok(Self {
            text,
            span: start..start + trimmed.len(),
            members,
        })
    }
}

// --- Edits ---

impl Edits {
    /// Adds members before `object`'s closing brace, after those it has (and after members
    /// added to it earlier).
    pub fn add_members<'k>(
        &mut self,
        object: &Object<'_>,
        members: impl IntoIterator<Item = (&'k str, &'k Value)>,
    ) {
        let at = object.span.end - 1;
        let mut text = String::new();
        for (key, value) in members {
            text.push(',');
            text.push_str(&member(key, value));
        }
        if text.is_empty() {
            return;
        }

        // A second batch for the same object continues the first one.
        if let Some(edit) = self.edits.iter_mut().find(|edit| edit.span == (at..at)) {
            edit.text.push_str(&text);
            return;
        }
        if object.is_empty() {
            text.remove(0);
        }
        self.edits.push(Edit { span: at..at, text });
    }

    /// Replaces the bytes at `span` (a value's span) by `value`.
    pub fn replace(&mut self, span: Range<usize>, value: &Value) {
        self.edits.push(Edit {
            span,
            text: value.to_string(),
        });
    }

    /// Whether no edit was recorded.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The text with every edit applied; edits must not overlap.
    pub fn apply(mut self, text: &[u8]) -> Vec<u8> {
        self.edits.sort_by_key(|edit| edit.span.start);
        let extra: usize = self.edits.iter().map(|edit| edit.text.len()).sum();
        let mut out = Vec::with_capacity(text.len() + extra);

        let mut done = 0;
        for edit in &self.edits {
            out.extend_from_slice(&text[done..edit.span.start]);
            out.extend_from_slice(edit.text.as_bytes());
            done = edit.span.end;
        }
        out.extend_from_slice(&text[done..]);
        out
    }
}

/// `"key":value`, compact, as `JSON.stringify` writes it.
fn member(key: &str, value: &Value) -> String {
    format!("{}:{value}", Value::from(key))
}

/// The byte offset of `part` in `text`; `part` is always a sub-slice of `text` here, since
/// every borrowed raw value points into the text it was read from.
fn offset(text: &str, part: &str) -> usize {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    debug_assert!(start + part.len() <= text.len(), "part lies inside text");
    start
}

/// An object's members in order, each value left as raw text.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
            members.push(member);
        }
        Ok(Members(members))
    }
}

/// Any JSON value within serde_json's recursion limit; keeps nothing.
struct Shallow;

impl<'de> Deserialize<'de> for Shallow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any` counts depth; `deserialize_ignored_any` would not.
        deserializer.deserialize_any(ShallowVisitor)
    }
}

struct ShallowVisitor;

impl<'de> Visitor<'de> for ShallowVisitor {
    type Value = Shallow;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Shallow, E> {
        Ok(Shallow)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Shallow, E> {
        Ok(Shallow)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Shallow, E> {
        Ok(Shallow)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Shallow, E> {
        Ok(Shallow)
    }

    fn visit_str<E>(self, _: &str) -> Result<Shallow, E> {
        Ok(Shallow)
    }

    fn visit_unit<E>(self) -> Result<Shallow, E> {
        Ok(Shallow)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shallow, A::Error> {
        while seq.next_element::<Shallow>()?.is_some() {}
        Ok(Shallow)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shallow, A::Error> {
        while map.next_entry::<IgnoredAny, Shallow>()?.is_some() {}
        Ok(Shallow)
    }
}

#[cfg(test)]
mod tests;
