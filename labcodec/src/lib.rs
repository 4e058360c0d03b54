//! The distlab wire format.
//!
//! Every RPC argument and reply in distlab goes through [`encode`] and
//! [`decode`], so a reply is never shared memory and every byte on the
//! simulated wire is counted.
//!
//! # Guarantees
//!
//! - Any `serde` type round-trips: `decode(&encode(&v)?)? == v`.
//! - The encoding is bincode 2.0.x with its standard configuration (varint
//!   integers, little endian); it is stable across machines, so message sizes
//!   (and thus the byte counts that tests bound) are the same everywhere.
//! - [`decode`] of arbitrary bytes never panics and never allocates more than
//!   about [`MAX_MESSAGE_BYTES`]: a corrupt length prefix is an error, not an
//!   out-of-memory abort. Trailing bytes after a valid value are an error too.
//! - Messages larger than [`MAX_MESSAGE_BYTES`] are refused by [`encode`], so
//!   a sender learns about an oversized message instead of its receiver.
//! - Errors are values ([`EncodeError`], [`DecodeError`]) that name the Rust
//!   type involved.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Vote { term: u64, granted: bool }
//!
//! let bytes = labcodec::encode(&Vote { term: 7, granted: true }).unwrap();
//! assert_eq!(bytes.len(), 2);
//! let back: Vote = labcodec::decode(&bytes).unwrap();
//! assert_eq!(back, Vote { term: 7, granted: true });
//! assert!(labcodec::decode::<Vote>(&[0xff; 3]).is_err());
//! ```

use std::fmt;

use bincode::enc::write::{SizeWriter, Writer};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest message, in bytes, that [`encode`] produces and [`decode`]
/// accepts. It also bounds what a decoder may allocate for one message.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

type Config = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_MESSAGE_BYTES>,
>;

const CONFIG: Config = bincode::config::standard().with_limit::<MAX_MESSAGE_BYTES>();

/// A value could not be encoded.
#[derive(Debug)]
pub struct EncodeError {
    type_name: &'static str,
    kind: EncodeErrorKind,
}

#[derive(Debug)]
enum EncodeErrorKind {
    TooLarge(usize),
    Bincode(bincode::error::EncodeError),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            EncodeErrorKind::TooLarge(n) => write!(
                f,
                "cannot encode {}: {n} bytes exceeds the {MAX_MESSAGE_BYTES}-byte message limit",
                self.type_name
            ),
            EncodeErrorKind::Bincode(e) => write!(f, "cannot encode {}: {e}", self.type_name),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Bytes could not be decoded as the requested type.
#[derive(Debug, Clone)]
pub struct DecodeError {
    type_name: &'static str,
    len: usize,
    reason: String,
}

impl DecodeError {
    /// The Rust type that was being decoded.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode {} from {} bytes: {}",
            self.type_name, self.len, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

/// Encodes `value` into a fresh byte vector.
///
/// Fails only if the value's `Serialize` implementation fails (e.g. a map
/// whose length is unknown up front) or the encoding exceeds
/// [`MAX_MESSAGE_BYTES`].
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_sized(value, &mut out, 0)?;
    Ok(out)
}

/// Encodes `value` into `buf`, replacing what it held (its capacity is
/// reused: a sender that recycles its buffers allocates nothing). Fails
/// as [`encode`] does, leaving `buf` empty.
pub fn encode_into<T: Serialize + ?Sized>(value: &T, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    buf.clear();
    // A recycled buffer usually has room: written straight in, in one
    // pass (a writer that refuses to grow it gives up otherwise).
    if buf.capacity() > 0 {
        let mut room = RoomWriter(std::mem::take(buf));
        let written = bincode::serde::encode_into_writer(value, &mut room, CONFIG);
        *buf = room.0;
        if written.is_ok() && buf.len() <= MAX_MESSAGE_BYTES {
            return Ok(());
        }
        buf.clear();
    }
    // (Small ones get some room to spare, for a recycled buffer's next
    // message.)
    write_sized(value, buf, MIN_BUFFER)
}

/// Writes `value` into the empty `buf`, sized first (with capacity for at
/// least `least` bytes).
fn write_sized<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut Vec<u8>,
    least: usize,
) -> Result<(), EncodeError> {
    let type_name = std::any::type_name::<T>();
    let err = |e| EncodeError {
        type_name,
        kind: EncodeErrorKind::Bincode(e),
    };
    // Sized first, then written into a vector of exactly that size: a large
    // value (a Raft log) is copied once, not once per doubling.
    let mut size = SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, CONFIG).map_err(err)?;
    if size.bytes_written > MAX_MESSAGE_BYTES {
        return Err(EncodeError {
            type_name,
            kind: EncodeErrorKind::TooLarge(size.bytes_written),
        });
    }
    buf.reserve_exact(size.bytes_written.max(least));
    let mut out = VecWriter(std::mem::take(buf));
    let written = bincode::serde::encode_into_writer(value, &mut out, CONFIG);
    *buf = out.0;
    written.map_err(|e| {
        buf.clear();
        err(e)
    })
}

/// The least capacity [`encode_into`] gives a buffer.
const MIN_BUFFER: usize = 64;

/// Appends to a vector within its capacity, failing rather than growing
/// it.
struct RoomWriter(Vec<u8>);

impl Writer for RoomWriter {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        if self.0.capacity() - self.0.len() < bytes.len() {
            return Err(bincode::error::EncodeError::UnexpectedEnd);
        }
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// Appends to a vector (bincode's own is private).
struct VecWriter(Vec<u8>);

impl Writer for VecWriter {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// Decodes a `T` that must occupy all of `bytes`.
///
/// Never panics; fails on truncated input, invalid tags or UTF-8, length
/// prefixes beyond [`MAX_MESSAGE_BYTES`], and trailing bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let type_name = std::any::type_name::<T>();
    let err = |reason: String| DecodeError {
        type_name,
        len: bytes.len(),
        reason,
    };
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(err(format!(
            "input exceeds the {MAX_MESSAGE_BYTES}-byte message limit"
        )));
    }
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, CONFIG).map_err(|e| err(e.to_string()))?;
    if used != bytes.len() {
        return Err(err(format!(
            "{} trailing bytes after the value",
            bytes.len() - used
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
    enum Op {
        Get { key: String },
        Put { key: String, value: Vec<u8> },
        Noop,
    }

    #[test]
    fn encode_into_replaces_the_buffer_and_matches_encode() {
        let mut buf = vec![9u8; 100];
        encode_into(&(7u64, "seven"), &mut buf).unwrap();
        assert_eq!(buf, encode(&(7u64, "seven")).unwrap());
        // A buffer too small for the value: it grows.
        let mut small = Vec::with_capacity(2);
        let long = "x".repeat(500);
        encode_into(&long, &mut small).unwrap();
        assert_eq!(small, encode(&long).unwrap());
        let big = vec![0u8; MAX_MESSAGE_BYTES + 1];
        assert!(encode_into(&big, &mut buf).is_err());
        assert!(buf.is_empty());
    }

    #[test]
    fn round_trips_nested_values() {
        let mut m = BTreeMap::new();
        m.insert(3u64, vec![Op::Noop, Op::Get { key: "k".into() }]);
        m.insert(
            9,
            vec![Op::Put {
                key: "x".into(),
                value: vec![1, 2, 3],
            }],
        );
        let v = (m, Some(-5i32), "text".to_string(), [1u8; 4]);
        let back: (BTreeMap<u64, Vec<Op>>, Option<i32>, String, [u8; 4]) =
            decode(&encode(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = encode(&5u32).unwrap();
        bytes.push(0);
        let e = decode::<u32>(&bytes).unwrap_err();
        assert!(e.to_string().contains("1 trailing bytes"), "{e}");
        assert!(e.to_string().contains("u32"), "{e}");
    }

    #[test]
    fn huge_length_prefix_is_an_error_not_an_allocation() {
        // A varint length of u64::MAX followed by nothing.
        let bytes = [253u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let e = decode::<Vec<u64>>(&bytes).unwrap_err();
        assert!(e.to_string().contains("Vec<u64>"), "{e}");
        let e = decode::<String>(&bytes).unwrap_err();
        assert!(e.to_string().contains("String"), "{e}");
    }

    #[test]
    fn truncated_input_names_the_type() {
        let bytes = encode(&Op::Put {
            key: "key".into(),
            value: vec![7; 10],
        })
        .unwrap();
        for cut in 0..bytes.len() {
            let e = decode::<Op>(&bytes[..cut]).unwrap_err();
            assert!(e.to_string().contains("Op"), "{e}");
        }
    }

    #[test]
    fn oversized_messages_are_refused_by_the_sender() {
        let big = vec![0u8; MAX_MESSAGE_BYTES + 1];
        let e = encode(&big).unwrap_err();
        assert!(e.to_string().contains("message limit"), "{e}");
    }
}
