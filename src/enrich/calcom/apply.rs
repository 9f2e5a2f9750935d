//! Writing a plan's additions into the body, every other byte left as sent.

use serde_json::{Map, Value};

use super::plan::{Addition, Lineage, MetadataSlot};
use super::Shape;
use crate::enrich::splice::{Edits, Object};

/// A body after [`apply`], with the names of what it gained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The enriched body.
    pub body: Vec<u8>,
    /// The added fields: `metadata.<key>`, `bookingMetadata`, `previousBookingUid`, ...
    pub added: Vec<String>,
}

/// Adds `addition` to the object holding the booking fields (`payload`, or the top level of a
/// [`Shape::Flat`] body). Members the body already has keep their value; a `metadata` that is
/// neither an object nor `null` is left alone. `None` when nothing was added.
pub fn apply(body: &[u8], shape: Shape, addition: &Addition) -> Option<Applied> {
    let text = std::str::from_utf8(body).ok()?;
    let root = Object::parse(text).ok()?;
    let target = match shape {
        Shape::Flat => root,
        Shape::Envelope => root.object("payload")?,
    };

    let mut splice = Splice {
        edits: Edits::default(),
        members: Vec::new(),
        added: Vec::new(),
    };
    match addition.slot {
        MetadataSlot::Merge => splice.merge_metadata(&target, &addition.metadata),
        MetadataSlot::Beside => splice.booking_metadata(&target, &addition.metadata),
    }
    if let Some(lineage) = &addition.lineage {
        splice.lineage(&target, lineage);
    }

    let Splice {
        mut edits,
        members,
        added,
    } = splice;
    edits.add_members(&target, members.iter().map(|(key, value)| (*key, value)));
    if edits.is_empty() {
        return None;
    }
    Some(Applied {
        body: edits.apply(body),
        added,
    })
}

/// The edits collected for one body.
struct Splice {
    edits: Edits,
    /// Members for the booking object, added in one batch at the end.
    members: Vec<(&'static str, Value)>,
    added: Vec<String>,
}

impl Splice {
    /// Cached keys into `metadata`: appended to its object, or the member added or, when
    /// `null`, replaced.
    fn merge_metadata(&mut self, target: &Object<'_>, metadata: &Map<String, Value>) {
        if metadata.is_empty() {
            return;
        }
        let whole = Value::Object(metadata.clone());
        match target.get("metadata").map(|raw| raw.get()) {
            None => self.members.push((METADATA, whole)),
            Some("null") => {
                let span = target
                    .value_span(METADATA)
                    .expect("the member was just found");
                self.edits.replace(span, &whole);
            }
            Some(_) => return self.append_metadata(target, metadata),
        }
        self.name_keys(metadata.keys());
    }

    /// Cached keys the `metadata` object lacks, appended to it.
    fn append_metadata(&mut self, target: &Object<'_>, metadata: &Map<String, Value>) {
        let Some(own) = target.object(METADATA) else {
            return;
        };
        let missing: Vec<_> = metadata.iter().filter(|(key, _)| !own.has(key)).collect();
        self.edits.add_members(
            &own,
            missing.iter().map(|(key, value)| (key.as_str(), *value)),
        );
        self.name_keys(missing.into_iter().map(|(key, _)| key));
    }

    /// The booking's metadata under `bookingMetadata`, beside a `metadata` left as sent.
    fn booking_metadata(&mut self, target: &Object<'_>, metadata: &Map<String, Value>) {
        if !metadata.is_empty() {
            self.add(
                target,
                BOOKING_METADATA,
                Some(Value::Object(metadata.clone())),
            );
        }
    }

    /// Lineage members; an id hookseal never learned is left out.
    fn lineage(&mut self, target: &Object<'_>, lineage: &Lineage) {
        self.add(
            target,
            "previousBookingUid",
            Some(lineage.previous_uid.clone().into()),
        );
        self.add(
            target,
            "previousBookingId",
            lineage.previous_id.map(Value::from),
        );
        self.add(
            target,
            "originalBookingUid",
            Some(lineage.original_uid.clone().into()),
        );
        self.add(
            target,
            "originalBookingId",
            lineage.original_id.map(Value::from),
        );
    }

    /// Adds member `key` to the booking object unless the body already has one.
    fn add(&mut self, target: &Object<'_>, key: &'static str, value: Option<Value>) {
        let Some(value) = value.filter(|_| !target.has(key)) else {
            return;
        };
        self.members.push((key, value));
        self.added.push(key.to_owned());
    }

    fn name_keys<'k>(&mut self, keys: impl Iterator<Item = &'k String>) {
        self.added
            .extend(keys.map(|key| format!("{METADATA}.{key}")));
    }
}

const METADATA: &str = "metadata";
const BOOKING_METADATA: &str = "bookingMetadata";
