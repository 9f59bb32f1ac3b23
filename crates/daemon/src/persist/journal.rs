//! The codec of the state journal (`daemon-state.journal`): one record per line,
//! `<checksum> <json>\n`, the checksum a 64-bit FNV-1a of the JSON in 16 hex digits.
//!
//! A record is only appended whole and then fsync'd, so the only damage a crash can leave
//! is a torn last record (a write cut short): it has no newline or its checksum does not
//! match, and decoding stops there and says where. No I/O here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change to the recorded table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Record {
    /// The first record: the snapshot this journal continues (a journal whose generation is
    /// not the snapshot's is left over from before a compaction and is not replayed).
    Generation(u64),
    /// App `id` is now `entry` (a `dump.pm2` entry), added or replaced.
    Put {
        /// The app's pm_id.
        id: u32,
        /// Its dump entry.
        entry: Value,
    },
    /// App `id` was deleted.
    Remove(u32),
}

/// What decoding a journal found: the whole records, in order, and where it stopped early.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Decoded {
    /// Every whole record before the first damaged one.
    pub records: Vec<Record>,
    /// When decoding stopped before the end: the byte offset and why.
    pub torn: Option<(usize, &'static str)>,
}

/// 64-bit FNV-1a: detects a torn or garbled record; stable across Rust versions, unlike
/// std's `DefaultHasher`, so a journal outlives an upgrade of the binary.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Appends `record` as one line to `out`.
pub(crate) fn encode(record: &Record, out: &mut Vec<u8>) {
    // A Value, strings and integers only: serialising cannot fail.
    let json = serde_json::to_vec(record).unwrap_or_default();
    out.extend_from_slice(format!("{:016x} ", checksum(&json)).as_bytes());
    out.extend_from_slice(&json);
    out.push(b'\n');
}

/// Decodes a whole journal, stopping at the first torn or damaged record.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    let mut decoded = Decoded::default();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let Some(end) = rest.iter().position(|b| *b == b'\n') else {
            decoded.torn = Some((at, "a record without its end (a write cut short)"));
            break;
        };
        match decode_line(&rest[..end]) {
            Ok(record) => decoded.records.push(record),
            Err(why) => {
                decoded.torn = Some((at, why));
                break;
            }
        }
        at += end + 1;
    }
    decoded
}

fn decode_line(line: &[u8]) -> Result<Record, &'static str> {
    let (sum, json) = match (line.get(..16), line.get(16), line.get(17..)) {
        (Some(sum), Some(b' '), Some(json)) => (sum, json),
        _ => return Err("a record too short to hold its checksum"),
    };
    let sum = std::str::from_utf8(sum)
        .ok()
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .ok_or("a record whose checksum is not hexadecimal")?;
    if sum != checksum(json) {
        return Err("a record whose checksum does not match");
    }
    serde_json::from_slice(json).map_err(|_| "a record that is not a journal record")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Vec<Record> {
        vec![
            Record::Generation(7),
            Record::Put {
                id: 0,
                entry: json!({"name": "api", "env": {"A": "line\nbreak", "B": "é"}}),
            },
            Record::Remove(0),
        ]
    }

    fn encoded(records: &[Record]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            encode(r, &mut out);
        }
        out
    }

    #[test]
    fn records_round_trip_one_line_each() {
        let bytes = encoded(&sample());
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 3);
        assert_eq!(
            decode(&bytes),
            Decoded {
                records: sample(),
                torn: None
            }
        );
    }

    #[test]
    fn an_empty_journal_has_no_records() {
        assert_eq!(decode(b""), Decoded::default());
    }

    #[test]
    fn every_cut_of_the_last_record_keeps_the_whole_ones_before_it() {
        let bytes = encoded(&sample());
        let last_start = encoded(&sample()[..2]).len();
        for cut in last_start + 1..bytes.len() {
            let d = decode(&bytes[..cut]);
            assert_eq!(d.records, sample()[..2], "cut at {cut}");
            assert_eq!(d.torn.map(|t| t.0), Some(last_start), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_byte_stops_decoding_at_its_record() {
        let mut bytes = encoded(&sample());
        let second = encoded(&sample()[..1]).len();
        bytes[second + 30] ^= 0x20;
        let d = decode(&bytes);
        assert_eq!(d.records, sample()[..1]);
        assert_eq!(
            d.torn,
            Some((second, "a record whose checksum does not match"))
        );
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        for junk in [
            &b"\n"[..],
            b"zzzzzzzzzzzzzzzz {}\n",
            b"0000000000000000x{}\n",
            b"\xff\xfe\x00\n",
        ] {
            let d = decode(junk);
            assert!(d.records.is_empty() && d.torn == Some((0, d.torn.unwrap().1)));
        }
        // A valid checksum over JSON that is no record.
        let json = br#"{"other":1}"#;
        let mut line = format!("{:016x} ", checksum(json)).into_bytes();
        line.extend_from_slice(json);
        line.push(b'\n');
        assert_eq!(
            decode(&line).torn,
            Some((0, "a record that is not a journal record"))
        );
    }

    #[test]
    fn the_checksum_is_fnv1a_64() {
        // The published FNV-1a 64 test vectors: the format must not drift.
        assert_eq!(checksum(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(checksum(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
