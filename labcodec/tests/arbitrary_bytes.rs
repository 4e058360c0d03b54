//! Property test: decoding arbitrary or corrupted bytes never panics and never
//! allocates without bound.
//!
//! A counting global allocator records the peak heap growth while decoding;
//! the bound is [`labcodec::MAX_MESSAGE_BYTES`] plus slack. This file is its
//! own test binary so no other test allocates concurrently: its tests run one
//! at a time under a lock. Run longer with `PROPTEST_CASES=1000000`.
#![allow(unsafe_code)] // the counting allocator below

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: forwards to the system allocator and only adds atomic bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Entry {
    Command { term: u64, data: Vec<u8> },
    Config { members: Vec<String> },
    Noop(u64),
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Message {
    term: u64,
    leader: i32,
    entries: Vec<Entry>,
    index: BTreeMap<String, (u32, Option<f64>)>,
    text: String,
    flags: Vec<bool>,
}

/// Decodes `bytes` as several types, returning the peak heap growth.
fn decode_all(bytes: &[u8]) -> usize {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let _ = labcodec::decode::<Message>(bytes);
    let _ = labcodec::decode::<Vec<Vec<u64>>>(bytes);
    let _ = labcodec::decode::<String>(bytes);
    let _ = labcodec::decode::<Vec<u8>>(bytes);
    let _ = labcodec::decode::<BTreeMap<u64, String>>(bytes);
    let _ = labcodec::decode::<(u8, char, i128)>(bytes);
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

const SLACK: usize = 1 << 20;

fn arb_message() -> impl Strategy<Value = Message> {
    let entry = prop_oneof![
        (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(term, data)| Entry::Command { term, data }),
        proptest::collection::vec(".{0,8}", 0..4).prop_map(|members| Entry::Config { members }),
        any::<u64>().prop_map(Entry::Noop),
    ];
    (
        any::<u64>(),
        any::<i32>(),
        proptest::collection::vec(entry, 0..8),
        proptest::collection::btree_map(".{0,6}", (any::<u32>(), any::<Option<f64>>()), 0..4),
        ".{0,16}",
        proptest::collection::vec(any::<bool>(), 0..8),
    )
        .prop_map(|(term, leader, entries, index, text, flags)| Message {
            term,
            leader,
            entries,
            index,
            text,
            flags,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000)
    ))]

    #[test]
    fn random_bytes_decode_without_panic_or_unbounded_allocation(
        bytes in proptest::collection::vec(any::<u8>(), 0..256)
    ) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let peak = decode_all(&bytes);
        prop_assert!(peak <= labcodec::MAX_MESSAGE_BYTES + SLACK, "peak allocation {peak}");
    }

    #[test]
    fn valid_messages_round_trip(msg in arb_message()) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = labcodec::encode(&msg).unwrap();
        let back: Message = labcodec::decode(&bytes).unwrap();
        // NaN != NaN, so compare encodings rather than values.
        prop_assert_eq!(labcodec::encode(&back).unwrap(), bytes);
    }

    #[test]
    fn corrupted_messages_decode_without_panic_or_unbounded_allocation(
        msg in arb_message(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut bytes = labcodec::encode(&msg).unwrap();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep.max(bytes.len() / 2));
        let peak = decode_all(&bytes);
        prop_assert!(peak <= labcodec::MAX_MESSAGE_BYTES + SLACK, "peak allocation {peak}");
    }
}
