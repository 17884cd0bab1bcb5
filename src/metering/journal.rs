//! The node's usage journal: an append-only log of delivery records in
//! segment files, synced to disk before any delivery in it is answered, and
//! read back in order by the shipper, which moves it into the SQL ledger.
//!
//! A segment is a file named by its number (`00000000000000000007.seg`),
//! holding records one after another, each `[length: u32 LE][crc32 of the
//! payload: u32 LE][payload]`. A node appends only to the segment it
//! created at start, and starts a new one past [`SEGMENT_BYTES`]; so an
//! older segment never grows again, and whatever follows its last whole
//! record (a write torn by a crash, never synced, never answered) is read
//! as its end. Bytes that fail their checksum inside a segment are skipped
//! up to the next whole record and reported ([`Item::Corrupt`]).
//!
//! One process holds the directory at a time (an exclusive lock on its
//! `lock` file): two nodes must never share a journal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A segment grows to about this size before the next one is started.
pub const SEGMENT_BYTES: u64 = 8 * 1024 * 1024;
/// The largest payload a record may have.
pub const MAX_RECORD: usize = 64 * 1024;
const HEADER: usize = 8;

/// Where a record starts (or a segment's reading stopped): a segment's
/// number and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// The segment's number.
    pub segment: u64,
    /// Bytes into it.
    pub offset: u64,
}

/// What a stretch of a segment holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    /// A whole record: its payload, and the position just past it.
    Record {
        /// The payload.
        payload: Vec<u8>,
        /// Where the next item starts.
        next: Position,
    },
    /// Bytes that are not a whole record, followed by a whole record:
    /// corruption, skipped.
    Corrupt {
        /// Where the bad bytes start.
        at: Position,
        /// How many were skipped.
        bytes: u64,
    },
}

/// Frames one payload as a record.
pub fn frame(payload: &[u8], into: &mut Vec<u8>) {
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    into.extend_from_slice(&length.to_le_bytes());
    into.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    into.extend_from_slice(payload);
}

/// The whole record at the start of `bytes`, if there is one: its payload
/// and its length with the header.
fn record_at(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let header = bytes.get(..HEADER)?;
    let length = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    if length == 0 || length > MAX_RECORD {
        return None;
    }
    let payload = bytes.get(HEADER..HEADER + length)?;
    (crc32fast::hash(payload) == crc).then_some((payload, HEADER + length))
}

/// Reads the records of `bytes`, which start at `start`, up to `limit` of
/// them. Whatever follows the last whole record with no whole record after
/// it is a torn end (or the cut end of a read): it is not returned, and the
/// position of the last item tells where it begins.
pub fn scan(bytes: &[u8], start: Position, limit: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let at = |offset: usize| Position {
        segment: start.segment,
        offset: start.offset + offset as u64,
    };
    let mut offset = 0;
    let mut records = 0;
    while offset < bytes.len() && records < limit {
        if let Some((payload, length)) = record_at(&bytes[offset..]) {
            records += 1;
            offset += length;
            items.push(Item::Record {
                payload: payload.to_vec(),
                next: at(offset),
            });
            continue;
        }
        // Not a record here: corruption if a whole record follows, else the
        // torn end of the segment.
        match (offset + 1..bytes.len()).find(|&o| record_at(&bytes[o..]).is_some()) {
            Some(resume) => {
                items.push(Item::Corrupt {
                    at: at(offset),
                    bytes: (resume - offset) as u64,
                });
                offset = resume;
            }
            None => break,
        }
    }
    items
}

/// The path of segment `number` in `dir`.
pub fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.seg"))
}

/// The numbers of the segments in `dir`, in order.
pub fn segments(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(number) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// Bytes the segments in `dir` take.
pub fn size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for number in segments(dir)? {
        total += std::fs::metadata(segment_path(dir, number))?.len();
    }
    Ok(total)
}

/// The journal's directory, held by this process.
#[derive(Debug)]
pub struct Directory {
    path: PathBuf,
    /// Locked while the directory is held; unlocked when dropped.
    _lock: File,
}

impl Directory {
    /// Takes the journal at `path` (created if missing), or fails if another
    /// process holds it.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(path)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.join("lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    format!(
                        "the usage journal {} is held by another process; give each node its own journal directory",
                        path.display()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
        Ok(Self {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The node's id, kept in the directory: made once, the same on every
    /// start, so the node finds its own quota leases again.
    pub fn node_id(&self) -> std::io::Result<String> {
        let file = self.path.join("node");
        match std::fs::read_to_string(&file) {
            Ok(id) if uuid::Uuid::parse_str(id.trim()).is_ok() => Ok(id.trim().to_owned()),
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} does not hold a node id", file.display()),
            )),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let id = uuid::Uuid::now_v7().to_string();
                let temporary = self.path.join("node.new");
                let mut out = File::create(&temporary)?;
                out.write_all(id.as_bytes())?;
                out.sync_all()?;
                std::fs::rename(&temporary, &file)?;
                sync_directory(&self.path)?;
                Ok(id)
            }
            Err(error) => Err(error),
        }
    }

    /// Where shipping stopped, as last saved (the start if never).
    pub fn shipped(&self) -> Position {
        std::fs::read_to_string(self.path.join("shipped"))
            .ok()
            .and_then(|text| {
                let (segment, offset) = text.trim().split_once(' ')?;
                Some(Position {
                    segment: segment.parse().ok()?,
                    offset: offset.parse().ok()?,
                })
            })
            .unwrap_or_default()
    }

    /// Saves where shipping stopped. Not synced: shipping is idempotent, so
    /// a lost mark only means records are offered to the ledger again.
    pub fn save_shipped(&self, position: Position) -> std::io::Result<()> {
        let temporary = self.path.join("shipped.new");
        std::fs::write(
            &temporary,
            format!("{} {}\n", position.segment, position.offset),
        )?;
        std::fs::rename(temporary, self.path.join("shipped"))
    }
}

/// Syncs a directory, so a file created or renamed in it survives a crash.
pub fn sync_directory(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

/// The segment records are appended to.
#[derive(Debug)]
pub struct Appender {
    dir: PathBuf,
    file: File,
    number: u64,
    length: u64,
}

impl Appender {
    /// Starts a new segment after every segment in `dir`.
    pub fn start(dir: &Path) -> std::io::Result<Self> {
        let number = segments(dir)?.last().map_or(1, |last| last + 1);
        Self::create(dir, number)
    }

    fn create(dir: &Path, number: u64) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(segment_path(dir, number))?;
        sync_directory(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            file,
            number,
            length: 0,
        })
    }

    /// Writes framed records (not yet synced) and returns the position just
    /// past them, with the file to sync. Past [`SEGMENT_BYTES`] the next
    /// write goes to a new segment; the old one is synced first, so a
    /// segment is on disk whole before a later one holds anything.
    pub fn append(&mut self, framed: &[u8]) -> std::io::Result<(Position, File)> {
        if self.length >= SEGMENT_BYTES {
            self.file.sync_data()?;
            *self = Self::create(&self.dir, self.number + 1)?;
        }
        if let Err(error) = self.file.write_all(framed) {
            // Part of it may have been written (a full disk): cut it off,
            // so the next records start where the positions say.
            let _ = self.file.set_len(self.length);
            return Err(error);
        }
        self.length += framed.len() as u64;
        Ok((
            Position {
                segment: self.number,
                offset: self.length,
            },
            self.file.try_clone()?,
        ))
    }

    /// Where the next record will go.
    pub fn end(&self) -> Position {
        Position {
            segment: self.number,
            offset: self.length,
        }
    }
}

/// Reads the bytes of segment `number` from `offset` up to `end` (to the end
/// of the file when `None`).
pub fn read_segment(
    dir: &Path,
    number: u64,
    offset: u64,
    end: Option<u64>,
) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(segment_path(dir, number))?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    match end {
        Some(end) => {
            file.take(end.saturating_sub(offset))
                .read_to_end(&mut bytes)?;
        }
        None => {
            file.read_to_end(&mut bytes)?;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            frame(p, &mut out);
        }
        out
    }

    fn payloads(items: &[Item]) -> Vec<&[u8]> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Record { payload, .. } => Some(payload.as_slice()),
                Item::Corrupt { .. } => None,
            })
            .collect()
    }

    #[test]
    fn records_read_back_in_order_with_their_positions() {
        let bytes = framed(&[b"one", b"two", b"three"]);
        let start = Position {
            segment: 4,
            offset: 100,
        };

        let items = scan(&bytes, start, usize::MAX);

        assert_eq!(payloads(&items), [&b"one"[..], b"two", b"three"]);
        let Item::Record { next, .. } = &items[2] else {
            panic!()
        };
        assert_eq!(next.offset, 100 + bytes.len() as u64);
        assert_eq!(next.segment, 4);
    }

    #[test]
    fn a_torn_tail_is_dropped_at_every_cut() {
        let bytes = framed(&[b"first record", b"second record"]);
        let first = HEADER + b"first record".len();
        for cut in first..bytes.len() {
            let items = scan(&bytes[..cut], Position::default(), usize::MAX);
            assert_eq!(payloads(&items), [&b"first record"[..]], "cut at {cut}");
            assert!(
                items.iter().all(|i| matches!(i, Item::Record { .. })),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_corrupt_record_is_skipped_and_reported_and_the_rest_is_read() {
        let mut bytes = framed(&[b"alpha", b"bravo", b"charlie"]);
        let second = HEADER + 5;
        bytes[second + HEADER + 1] ^= 0xff; // a payload byte of "bravo"

        let items = scan(&bytes, Position::default(), usize::MAX);

        assert_eq!(payloads(&items), [&b"alpha"[..], b"charlie"]);
        assert_eq!(
            items[1],
            Item::Corrupt {
                at: Position {
                    segment: 0,
                    offset: second as u64
                },
                bytes: (HEADER + 5) as u64
            }
        );
    }

    #[test]
    fn reading_stops_after_the_limit_at_a_record_boundary() {
        let bytes = framed(&[b"one", b"two", b"three"]);
        let items = scan(&bytes, Position::default(), 2);
        assert_eq!(payloads(&items), [&b"one"[..], b"two"]);
        let Item::Record { next, .. } = &items[1] else {
            panic!()
        };
        assert_eq!(next.offset as usize, 2 * HEADER + 6);
    }

    #[test]
    fn a_length_past_the_limit_or_zero_is_not_a_record() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0_u32.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(b"").to_le_bytes());
        assert!(scan(&bytes, Position::default(), usize::MAX).is_empty());
        let mut big = Vec::new();
        big.extend_from_slice(&u32::MAX.to_le_bytes());
        big.extend_from_slice(&[0; 4]);
        assert!(scan(&big, Position::default(), usize::MAX).is_empty());
    }

    #[test]
    fn segments_roll_over_and_a_new_start_never_appends_to_an_old_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut appender = Appender::start(dir.path()).unwrap();
        let record = framed(&[&vec![7_u8; 1000]]);
        let mut last = Position::default();
        while last.segment < 2 {
            last = appender.append(&record).unwrap().0;
        }
        drop(appender);
        let again = Appender::start(dir.path()).unwrap();

        assert_eq!(again.end().segment, 3);
        assert_eq!(segments(dir.path()).unwrap(), [1, 2, 3]);
        let first = read_segment(dir.path(), 1, 0, None).unwrap();
        assert!(first.len() as u64 >= SEGMENT_BYTES);
        assert_eq!(
            scan(&first, Position::default(), usize::MAX).len() as u64,
            first.len() as u64 / record.len() as u64
        );
    }

    #[test]
    fn a_directory_is_held_by_one_process_and_keeps_its_node_id_and_mark() {
        let dir = tempfile::tempdir().unwrap();
        let held = Directory::open(dir.path()).unwrap();
        let id = held.node_id().unwrap();
        held.save_shipped(Position {
            segment: 3,
            offset: 77,
        })
        .unwrap();

        let refused = Directory::open(dir.path()).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse);
        drop(held);
        let again = Directory::open(dir.path()).unwrap();

        assert_eq!(again.node_id().unwrap(), id);
        assert_eq!(
            again.shipped(),
            Position {
                segment: 3,
                offset: 77
            }
        );
    }
}
