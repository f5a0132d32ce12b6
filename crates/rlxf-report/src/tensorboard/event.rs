//! The few protobuf fields of TensorBoard's `Event` that scalar logging needs, encoded by hand.
//!
//! tensorflow/core/util/event.proto:
//! ```text
//! message Event { double wall_time = 1; int64 step = 2;
//!                 oneof what { string file_version = 3; bytes graph_def = 4; Summary summary = 5;
//!                              LogMessage log_message = 6 [deprecated]; SessionLog session_log = 7; ... } }
//! message SessionLog { enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; ... } SessionStatus status = 1; ... }
//! ```
//! tensorflow/core/framework/summary.proto:
//! ```text
//! message Summary { repeated Value value = 1; }
//! message Summary.Value { string tag = 1; oneof value { float simple_value = 2; ... } }
//! ```

/// Protobuf wire types (encoding.md): varint, 64-bit, length-delimited, 32-bit.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LENGTH_DELIMITED: u8 = 2;
const FIXED32: u8 = 5;

const EVENT_WALL_TIME: u32 = 1;
const EVENT_STEP: u32 = 2;
const EVENT_FILE_VERSION: u32 = 3;
const EVENT_SUMMARY: u32 = 5;
const EVENT_SESSION_LOG: u32 = 7;
const SESSION_LOG_STATUS: u32 = 1;
const SESSION_STATUS_START: u64 = 1;
const SUMMARY_VALUE: u32 = 1;
const VALUE_TAG: u32 = 1;
const VALUE_SIMPLE_VALUE: u32 = 2;

/// What an event carries (only the kinds this crate writes; others are kept as `Other`).
#[derive(Debug, Clone, PartialEq)]
pub enum EventContent {
    /// The first event of every file: `brain.Event:2`.
    FileVersion(String),
    /// `(tag, simple_value)` pairs of one summary.
    Scalars(Vec<(String, f32)>),
    /// `SessionLog { status: START }`: a restarted run. TensorBoard drops every point it has
    /// loaded at this event's step or later, so values logged before a crash and logged again
    /// after the resume are not drawn twice.
    SessionStart,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub wall_time: f64,
    pub step: i64,
    pub content: EventContent,
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire_type));
}

fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, LENGTH_DELIMITED);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

impl Event {
    /// The protobuf encoding of the event.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_key(&mut out, EVENT_WALL_TIME, FIXED64);
        out.extend_from_slice(&self.wall_time.to_le_bytes());
        if self.step != 0 {
            put_key(&mut out, EVENT_STEP, VARINT);
            // int64 is a two's-complement varint (10 bytes when negative).
            put_varint(&mut out, self.step as u64);
        }
        match &self.content {
            EventContent::FileVersion(version) => {
                put_bytes(&mut out, EVENT_FILE_VERSION, version.as_bytes())
            }
            EventContent::Scalars(values) => {
                let mut summary = Vec::new();
                for (tag, value) in values {
                    let mut encoded = Vec::new();
                    put_bytes(&mut encoded, VALUE_TAG, tag.as_bytes());
                    put_key(&mut encoded, VALUE_SIMPLE_VALUE, FIXED32);
                    encoded.extend_from_slice(&value.to_le_bytes());
                    put_bytes(&mut summary, SUMMARY_VALUE, &encoded);
                }
                put_bytes(&mut out, EVENT_SUMMARY, &summary);
            }
            EventContent::SessionStart => {
                let mut session_log = Vec::new();
                put_key(&mut session_log, SESSION_LOG_STATUS, VARINT);
                put_varint(&mut session_log, SESSION_STATUS_START);
                put_bytes(&mut out, EVENT_SESSION_LOG, &session_log);
            }
            EventContent::Other => {}
        }
        out
    }

    /// Decodes an event, skipping fields this crate does not know.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut event = Event {
            wall_time: 0.0,
            step: 0,
            content: EventContent::Other,
        };
        for field in Fields::new(bytes) {
            match field? {
                (EVENT_WALL_TIME, FieldValue::Fixed64(bits)) => {
                    event.wall_time = f64::from_bits(bits)
                }
                (EVENT_STEP, FieldValue::Varint(v)) => event.step = v as i64,
                (EVENT_FILE_VERSION, FieldValue::Bytes(b)) => {
                    let version =
                        std::str::from_utf8(b).map_err(|_| "file_version is not UTF-8")?;
                    event.content = EventContent::FileVersion(version.to_string());
                }
                (EVENT_SUMMARY, FieldValue::Bytes(b)) => {
                    event.content = EventContent::Scalars(decode_summary(b)?)
                }
                (EVENT_SESSION_LOG, FieldValue::Bytes(b)) => {
                    for inner in Fields::new(b) {
                        if let (SESSION_LOG_STATUS, FieldValue::Varint(SESSION_STATUS_START)) =
                            inner?
                        {
                            event.content = EventContent::SessionStart;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(event)
    }
}

fn decode_summary(bytes: &[u8]) -> Result<Vec<(String, f32)>, String> {
    let mut values = Vec::new();
    for field in Fields::new(bytes) {
        if let (SUMMARY_VALUE, FieldValue::Bytes(value)) = field? {
            let (mut tag, mut simple) = (None, None);
            for inner in Fields::new(value) {
                match inner? {
                    (VALUE_TAG, FieldValue::Bytes(t)) => {
                        tag = Some(String::from_utf8(t.to_vec()).map_err(|_| "tag is not UTF-8")?)
                    }
                    (VALUE_SIMPLE_VALUE, FieldValue::Fixed32(bits)) => {
                        simple = Some(f32::from_bits(bits))
                    }
                    _ => {}
                }
            }
            if let (Some(tag), Some(simple)) = (tag, simple) {
                values.push((tag, simple));
            }
        }
    }
    Ok(values)
}

enum FieldValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Iterates `(field number, value)` over one message; stops after the first error.
struct Fields<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            failed: false,
        }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.rest.split_first().ok_or("truncated varint")?;
            self.rest = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.rest.len())
            .ok_or("truncated field")?;
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn field(&mut self) -> Result<(u32, FieldValue<'a>), String> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| "field number out of range")?;
        let value = match (key & 7) as u8 {
            VARINT => FieldValue::Varint(self.varint()?),
            FIXED64 => FieldValue::Fixed64(u64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            )),
            LENGTH_DELIMITED => {
                let n = self.varint()?;
                FieldValue::Bytes(self.take(n)?)
            }
            FIXED32 => FieldValue::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            )),
            other => return Err(format!("unsupported wire type {other} in field {number}")),
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, FieldValue<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let field = self.field();
        self.failed = field.is_err();
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_version_event_has_the_reference_encoding() {
        // Bytes as produced by protobuf for Event(wall_time=1.5, file_version="brain.Event:2").
        let event = Event {
            wall_time: 1.5,
            step: 0,
            content: EventContent::FileVersion("brain.Event:2".into()),
        };
        let mut expected = vec![0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x1a, 13];
        expected.extend_from_slice(b"brain.Event:2");
        assert_eq!(event.encode(), expected);
    }

    #[test]
    fn scalar_event_has_the_reference_encoding() {
        // Event(wall_time=0.0, step=300, summary=Summary(value=[Value(tag="a", simple_value=1.0)])):
        // step 300 = varint ac 02; value = 0a 01 'a' 15 <1.0f32> (8 bytes); summary = 0a 08 <value>
        // (10 bytes); event field 5 = 2a 0a <summary>.
        let event = Event {
            wall_time: 0.0,
            step: 300,
            content: EventContent::Scalars(vec![("a".into(), 1.0)]),
        };
        let expected = [
            0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xac, 0x02, 0x2a, 0x0a, 0x0a, 0x08, 0x0a, 0x01,
            b'a', 0x15, 0, 0, 0x80, 0x3f,
        ];
        assert_eq!(event.encode(), expected);
    }

    #[test]
    fn session_start_event_has_the_reference_encoding() {
        // Event(step=4, session_log=SessionLog(status=START)): step = 10 04; field 7 = 3a 02 08 01.
        let event = Event {
            wall_time: 0.0,
            step: 4,
            content: EventContent::SessionStart,
        };
        let expected = [
            0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x04, 0x3a, 0x02, 0x08, 0x01,
        ];
        assert_eq!(event.encode(), expected);
    }

    #[test]
    fn events_round_trip_including_negative_steps() {
        for event in [
            Event {
                wall_time: 1.7e9,
                step: 12,
                content: EventContent::Scalars(vec![
                    ("train/kl".into(), 0.25),
                    ("eval/accuracy".into(), -3.5),
                ]),
            },
            Event {
                wall_time: 2.0,
                step: -1,
                content: EventContent::Scalars(vec![]),
            },
            Event {
                wall_time: 3.0,
                step: i64::MAX,
                content: EventContent::FileVersion("brain.Event:2".into()),
            },
            Event {
                wall_time: 4.0,
                step: 4,
                content: EventContent::SessionStart,
            },
        ] {
            assert_eq!(Event::decode(&event.encode()).unwrap(), event);
        }
    }

    #[test]
    fn truncated_event_is_an_error_not_a_panic() {
        let bytes = Event {
            wall_time: 1.0,
            step: 5,
            content: EventContent::Scalars(vec![("tag".into(), 1.0)]),
        }
        .encode();
        // Cutting after a whole field (wall_time ends at 9, step at 11) leaves a valid shorter event;
        // every other cut falls inside a field.
        for cut in (1..bytes.len()).filter(|&c| c != 9 && c != 11) {
            assert!(Event::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
