//! The files of a job, their names and formats, and how they are written.
//!
//! All files live in the job's directory (inputs excepted: they are read
//! from the paths given to the job).
//!
//! | file | written by | format |
//! | --- | --- | --- |
//! | `mr-X-Y` | map task X, for reduce task Y | one pair per line: `key<TAB>value<LF>`, escaped (below) |
//! | `mr-out-Y` | reduce task Y | one line per key: `key value<LF>` (Go's `%v %v`), keys increasing |
//! | `tmp-<name>-w<worker>-<n>` | anyone writing `<name>` | partial content, renamed to `<name>` when complete |
//!
//! **Atomic outputs.** Every `mr-X-Y` and `mr-out-Y` is written to a
//! temporary file in the same directory and renamed when complete
//! ([`AtomicFile`]). A rename within one directory is atomic, so a reader
//! sees either no file or a complete one: a worker that crashes midway
//! leaves at most a `tmp-*` file, which no reader looks at. Two attempts of
//! one task write identical content, so whichever rename lands last wins
//! harmlessly. (No `fsync`: the files survive a crashed worker, not a power
//! loss.)
//!
//! **Escaping** in intermediate files: a backslash, tab, newline and
//! carriage return in a key or value are written as `\\`, `\t`, `\n` and
//! `\r`, so any string round-trips.
//!
//! **Partitioning.** A key goes to reduce task `ihash(key) % n_reduce`,
//! where [`ihash`] is 6.824's: 32-bit FNV-1a of the key's UTF-8 bytes,
//! masked to 31 bits.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::app::{Emit, KeyValue, WorkerId};
use crate::error::MrError;

/// The prefix of every temporary file; never `mr-`, so that no reader of
/// `mr-out-*` or `mr-X-Y` ever sees one.
pub const TMP_PREFIX: &str = "tmp-";

/// 6.824's key hash: FNV-1a, 32 bits, masked to 31 bits (Go's
/// `int(h.Sum32() & 0x7fffffff)`).
///
/// ```
/// assert_eq!(mapreduce::files::ihash(""), 0x811c_9dc5 & 0x7fff_ffff);
/// assert_eq!(mapreduce::files::ihash("a"), 0xe40c_292c & 0x7fff_ffff);
/// ```
pub fn ihash(key: &str) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let mut h = OFFSET_BASIS;
    for &b in key.as_bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h & 0x7fff_ffff
}

/// The reduce task of `key` among `n_reduce`.
///
/// # Panics
/// If `n_reduce` is zero.
pub fn partition(key: &str, n_reduce: usize) -> usize {
    ihash(key) as usize % n_reduce
}

/// `mr-X-Y`: what map task `map` produced for reduce task `reduce`.
pub fn intermediate_name(map: usize, reduce: usize) -> String {
    format!("mr-{map}-{reduce}")
}

/// `mr-out-Y`: the output of reduce task `reduce`.
pub fn output_name(reduce: usize) -> String {
    format!("mr-out-{reduce}")
}

/// Reads an input file whole, as text.
pub fn read_input(path: &str) -> Result<String, MrError> {
    let bytes = std::fs::read(path).map_err(|source| MrError::UnreadableInput {
        path: path.to_string(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| MrError::InputNotText {
        path: path.to_string(),
    })
}

/// A file written under a temporary name and renamed into place by
/// [`AtomicFile::commit`]. Dropping it uncommitted leaves the temporary
/// file behind, as a crashed process would, and never creates the target.
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    out: BufWriter<File>,
}

impl AtomicFile {
    /// Starts writing `dir/name` as worker `worker`; `attempt` makes the
    /// temporary name unique among that worker's files.
    pub fn create(
        dir: &Path,
        name: &str,
        worker: WorkerId,
        attempt: u64,
    ) -> Result<AtomicFile, MrError> {
        let tmp = dir.join(format!("{TMP_PREFIX}{name}-w{worker}-{attempt}"));
        let file = File::create(&tmp).map_err(|e| MrError::io("create", &tmp, e))?;
        Ok(AtomicFile {
            tmp,
            target: dir.join(name),
            out: BufWriter::with_capacity(64 << 10, file),
        })
    }

    /// Appends an output line `key value`.
    pub fn write_output_line(&mut self, key: &str, value: &str) -> Result<(), MrError> {
        let r = writeln!(self.out, "{key} {value}");
        r.map_err(|e| MrError::io("write", &self.tmp, e))
    }

    /// Appends one intermediate pair (escaped, see the module docs).
    pub fn write_pair(&mut self, kv: &KeyValue) -> Result<(), MrError> {
        let r = (|| {
            write_escaped(&mut self.out, &kv.key)?;
            self.out.write_all(b"\t")?;
            write_escaped(&mut self.out, &kv.value)?;
            self.out.write_all(b"\n")
        })();
        r.map_err(|e| MrError::io("write", &self.tmp, e))
    }

    /// The temporary file's path.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes and renames the temporary file to its target, atomically
    /// replacing any earlier version.
    pub fn commit(self) -> Result<(), MrError> {
        let AtomicFile { tmp, target, out } = self;
        out.into_inner()
            .map_err(|e| MrError::io("write", &tmp, e.into_error()))?;
        std::fs::rename(&tmp, &target).map_err(|e| MrError::io("rename", &tmp, e))
    }
}

fn write_escaped(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        out.write_all(esc)?;
        start = i + 1;
    }
    out.write_all(&bytes[start..])
}

fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

/// Writes `pairs` as `dir/mr-<map>-<reduce>`, atomically.
pub fn write_intermediate(
    dir: &Path,
    map: usize,
    reduce: usize,
    pairs: &[KeyValue],
    worker: WorkerId,
    attempt: u64,
) -> Result<(), MrError> {
    let mut f = AtomicFile::create(dir, &intermediate_name(map, reduce), worker, attempt)?;
    for kv in pairs {
        f.write_pair(kv)?;
    }
    f.commit()
}

/// A map task's output being built: one in-memory buffer per reduce task,
/// holding the bytes of `mr-X-Y` (escaped pairs, as [`write_intermediate`]
/// writes them). Pairs are copied in as borrowed slices ([`Emit`]), so
/// nothing is allocated per pair; [`MapOutput::commit`] writes every file.
///
/// ```
/// use mapreduce::Emit;
/// use mapreduce::files::MapOutput;
///
/// let mut out = MapOutput::new(10);
/// out.emit("the", "1");
/// out.emit("cat", "1");
/// assert_eq!(out.pairs(), 2);
/// ```
pub struct MapOutput {
    /// Invariant: one buffer per reduce task, at least one.
    partitions: Vec<Vec<u8>>,
    pairs: u64,
}

impl MapOutput {
    /// An empty output for `n_reduce` reduce tasks.
    ///
    /// # Panics
    /// If `n_reduce` is zero.
    pub fn new(n_reduce: usize) -> MapOutput {
        assert!(n_reduce > 0, "a job has at least one reduce task");
        MapOutput {
            partitions: vec![Vec::new(); n_reduce],
            pairs: 0,
        }
    }

    /// Pairs emitted so far.
    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// Writes `dir/mr-<map>-<Y>` for every reduce task Y (empty ones too),
    /// each atomically, as worker `worker` on its attempt `attempt`.
    pub fn commit(
        self,
        dir: &Path,
        map: usize,
        worker: WorkerId,
        attempt: u64,
    ) -> Result<(), MrError> {
        for (reduce, bytes) in self.partitions.iter().enumerate() {
            let mut f = AtomicFile::create(dir, &intermediate_name(map, reduce), worker, attempt)?;
            let r = f.out.write_all(bytes);
            r.map_err(|e| MrError::io("write", &f.tmp, e))?;
            f.commit()?;
        }
        Ok(())
    }
}

impl Emit for MapOutput {
    fn emit(&mut self, key: &str, value: &str) {
        let n = self.partitions.len();
        let buf = &mut self.partitions[partition(key, n)];
        escape_into(buf, key);
        buf.push(b'\t');
        escape_into(buf, value);
        buf.push(b'\n');
        self.pairs += 1;
    }
}

/// [`write_escaped`] into memory, which cannot fail.
fn escape_into(buf: &mut Vec<u8>, s: &str) {
    write_escaped(buf, s).expect("writing to memory cannot fail");
}

/// Appends the pairs of `dir/mr-<map>-<reduce>` to `out`, in file order.
pub fn read_intermediate(
    dir: &Path,
    map: usize,
    reduce: usize,
    out: &mut Vec<KeyValue>,
) -> Result<(), MrError> {
    let path = dir.join(intermediate_name(map, reduce));
    let text = std::fs::read_to_string(&path).map_err(|e| MrError::io("read", &path, e))?;
    for (i, line) in text.lines().enumerate() {
        let corrupt = || MrError::CorruptIntermediate {
            path: path.clone(),
            line: i + 1,
        };
        let (k, v) = line.split_once('\t').ok_or_else(corrupt)?;
        out.push(KeyValue {
            key: unescape(k).ok_or_else(corrupt)?,
            value: unescape(v).ok_or_else(corrupt)?,
        });
    }
    Ok(())
}

/// The names in `dir`, sorted (directory order is not deterministic).
pub fn list_dir(dir: &Path) -> Result<Vec<String>, MrError> {
    let entries = std::fs::read_dir(dir).map_err(|e| MrError::io("list", dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| MrError::io("list", dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// The non-empty lines of every `mr-out-*` file in `dir`, sorted: the
/// shell's `sort mr-out* | grep .`, by which 6.824 compares outputs.
pub fn sorted_output(dir: &Path) -> Result<Vec<String>, MrError> {
    let mut lines = Vec::new();
    for name in list_dir(dir)? {
        if name.starts_with("mr-out-") {
            let path = dir.join(&name);
            let text = std::fs::read_to_string(&path).map_err(|e| MrError::io("read", &path, e))?;
            lines.extend(text.lines().filter(|l| !l.is_empty()).map(String::from));
        }
    }
    lines.sort_unstable();
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for s in [
            "",
            "plain",
            "a\tb",
            "line\nbreak",
            "back\\slash\\t",
            "\r\n\t\\",
        ] {
            let mut buf = Vec::new();
            write_escaped(&mut buf, s).unwrap();
            let enc = String::from_utf8(buf).unwrap();
            assert!(!enc.contains(['\t', '\n', '\r']), "{enc:?}");
            assert_eq!(unescape(&enc).as_deref(), Some(s));
        }
        assert_eq!(unescape("bad\\x"), None);
        for s in ["a\tb", "x\\y\n", "plain"] {
            let (mut direct, mut buffered) = (Vec::new(), Vec::new());
            write_escaped(&mut direct, s).unwrap();
            escape_into(&mut buffered, s);
            assert_eq!(direct, buffered);
        }
        assert_eq!(unescape("trailing\\"), None);
    }

    #[test]
    fn map_output_writes_what_write_intermediate_writes() {
        let dir = std::env::temp_dir().join(format!("mr-files-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pairs: Vec<KeyValue> = ["the", "cat", "a\tb", "back\\slash", "line\nbreak", "the"]
            .iter()
            .enumerate()
            .map(|(i, k)| KeyValue::new(*k, format!("v{i}\r")))
            .collect();
        let n_reduce = 3;
        let mut out = MapOutput::new(n_reduce);
        for kv in &pairs {
            out.emit(&kv.key, &kv.value);
        }
        assert_eq!(out.pairs(), pairs.len() as u64);
        out.commit(&dir, 1, 0, 1).unwrap();
        for reduce in 0..n_reduce {
            let mine: Vec<KeyValue> = pairs
                .iter()
                .filter(|kv| partition(&kv.key, n_reduce) == reduce)
                .cloned()
                .collect();
            write_intermediate(&dir, 2, reduce, &mine, 0, 2).unwrap();
            let a = std::fs::read(dir.join(intermediate_name(1, reduce))).unwrap();
            let b = std::fs::read(dir.join(intermediate_name(2, reduce))).unwrap();
            assert_eq!(a, b, "partition {reduce}");
            let mut back = Vec::new();
            read_intermediate(&dir, 1, reduce, &mut back).unwrap();
            assert_eq!(back, mine);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ihash_matches_fnv1a_32() {
        // Reference values of 32-bit FNV-1a (before the 31-bit mask).
        assert_eq!(ihash("a"), 0xe40c_292c & 0x7fff_ffff);
        assert_eq!(ihash("foobar"), 0xbf9c_f968 & 0x7fff_ffff);
    }
}
