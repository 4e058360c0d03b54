//! The framing of a record appended with [`crate::Client::append`]: a
//! header (magic, length, checksum) and the payload. A chunk holding
//! appended records may also hold padding (zeros), the leftovers of failed
//! appends, and duplicates of records whose append was retried: a reader
//! finds the records by looking for headers whose checksum matches.
//!
//! ```text
//! offset 0    4       8          12
//!        magic | len  | checksum | payload (len bytes)
//! ```
//! All three header fields are little-endian `u32`s; the checksum covers
//! the length and the payload.

/// Marks the start of a record ("GFSR").
pub const MAGIC: u32 = 0x4753_4652;
/// Bytes of the header.
pub const HEADER: usize = 12;

/// FNV-1a over `parts`, in order.
pub fn checksum(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in *part {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// The framed record: header and payload.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("a record is shorter than 4 GiB");
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(&[&len.to_le_bytes(), payload]).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The record framed at `buf[pos..]`, if an intact one starts there: its
/// payload and the framed length (header included).
pub fn decode(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let field = |at: usize| -> Option<u32> {
        let bytes = buf.get(pos + at..pos + at + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    };
    if field(0)? != MAGIC {
        return None;
    }
    let len = field(4)?;
    let sum = field(8)?;
    let payload = buf.get(pos + HEADER..pos + HEADER + len as usize)?;
    (checksum(&[&len.to_le_bytes(), payload]) == sum).then_some((payload, HEADER + len as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let framed = encode(b"hello");
        assert_eq!(decode(&framed, 0), Some((&b"hello"[..], HEADER + 5)));
        let mut bad = framed.clone();
        bad[HEADER + 1] ^= 1;
        assert_eq!(decode(&bad, 0), None);
        assert_eq!(decode(&framed[..HEADER + 4], 0), None);
        assert_eq!(decode(&[0; 32], 0), None);
    }
}
