//! Power loss, not only a crash: the writer's unsynced writes are lost.
//!
//! Killing a process (tests/records/store.rs) leaves everything it wrote in the
//! kernel's page cache, so the file system still sees it. A power cut does
//! not: whatever was not fsynced may be lost, or reach the disk in part and
//! in any order. This test runs the writer over an SQLite VFS that models
//! that page cache: writes and truncations to the database and its WAL stay
//! in memory (reads see them) until SQLite syncs the file; then they go to
//! the real file and are fsynced. At a random write or sync (the cut), a
//! random half of the waiting 512-byte sectors reach the file, in no
//! particular order, and the process ends there. The database is then opened
//! normally and checked: it opens, it is intact, no event the writer reported
//! committed is missing, and the kept program is the old or the new one,
//! never a mix.
//!
//! The model keeps what SQLite's own crash tests assume of a disk: a sector
//! written is written whole or not at all, writes outside a written range are
//! untouched (powersafe overwrite), and file creation and deletion are
//! durable at once.
//!
//! 200 cuts here; the soak runs more:
//! `PERFUSE_POWERLOSS_ITERATIONS=1000 cargo test --release --test stack power_loss`
// The VFS is C ABI: raw pointers handed over by SQLite. Only this test uses it.
#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_testkit::crash;

use std::ffi::{c_int, c_void};
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crash::{check_round, write_steps, Reported};
use perfuse::store::EventLog;
use rusqlite::ffi;

/// Sector size of the modelled disk.
const SECTOR: u64 = 512;

/// A write or truncation the OS accepted but was not yet told to sync.
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    Truncate(u64),
}

struct Cache {
    /// The database and its WAL; other files pass straight through.
    tracked: bool,
    pending: Vec<Pending>,
}

#[repr(C)]
struct CachedFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    cache: *mut Cache,
}

/// The VFS underneath (the default, unix), as an address.
static UNDERLYING: OnceLock<usize> = OnceLock::new();
/// Open tracked files, as addresses of their `CachedFile`.
static OPEN: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Writes, truncations and syncs so far; the cut comes at `CUT_AT`.
static CALLS: AtomicU64 = AtomicU64::new(0);
static CUT_AT: AtomicU64 = AtomicU64::new(u64::MAX);
static RANDOM: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);

fn coin() -> bool {
    let mut x = RANDOM.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    RANDOM.store(x, Ordering::Relaxed);
    x & 1 == 1
}

fn underlying() -> *mut ffi::sqlite3_vfs {
    *UNDERLYING.get().unwrap() as *mut ffi::sqlite3_vfs
}

unsafe fn real_of(
    file: *mut ffi::sqlite3_file,
) -> (*mut ffi::sqlite3_file, &'static ffi::sqlite3_io_methods) {
    let real = (*(file as *mut CachedFile)).real;
    (real, &*(*real).pMethods)
}

unsafe fn cache_of(file: *mut ffi::sqlite3_file) -> &'static mut Cache {
    &mut *(*(file as *mut CachedFile)).cache
}

unsafe fn real_size(file: *mut ffi::sqlite3_file) -> Result<u64, c_int> {
    let (real, methods) = real_of(file);
    let mut size: ffi::sqlite3_int64 = 0;
    match (methods.xFileSize.unwrap())(real, &mut size) {
        ffi::SQLITE_OK => Ok(u64::try_from(size).unwrap_or(0)),
        rc => Err(rc),
    }
}

/// Puts one pending operation (or the part `keep` selects of its sectors)
/// into the real file; returns (sectors written, sectors lost).
unsafe fn apply(
    file: *mut ffi::sqlite3_file,
    op: &Pending,
    keep: &mut dyn FnMut() -> bool,
) -> (u64, u64) {
    let (real, methods) = real_of(file);
    match op {
        Pending::Truncate(size) => {
            if keep() {
                (methods.xTruncate.unwrap())(real, *size as ffi::sqlite3_int64);
                (1, 0)
            } else {
                (0, 1)
            }
        }
        Pending::Write { offset, data } => {
            let (mut written, mut lost) = (0, 0);
            let mut start = *offset;
            let end = offset + data.len() as u64;
            while start < end {
                let stop = ((start / SECTOR + 1) * SECTOR).min(end);
                if keep() {
                    let part = &data[(start - offset) as usize..(stop - offset) as usize];
                    (methods.xWrite.unwrap())(
                        real,
                        part.as_ptr().cast(),
                        part.len() as c_int,
                        start as ffi::sqlite3_int64,
                    );
                    written += 1;
                } else {
                    lost += 1;
                }
                start = stop;
            }
            (written, lost)
        }
    }
}

/// Counts one write, truncation or sync; at the chosen one the power fails.
unsafe fn tick() {
    if CALLS.fetch_add(1, Ordering::Relaxed) + 1 < CUT_AT.load(Ordering::Relaxed) {
        return;
    }
    let (mut written, mut lost) = (0, 0);
    for &address in OPEN.lock().unwrap().iter() {
        let file = address as *mut ffi::sqlite3_file;
        for op in &cache_of(file).pending {
            let (w, l) = apply(file, op, &mut coin);
            written += w;
            lost += l;
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "cut {written} {lost}").unwrap();
    out.flush().unwrap();
    std::process::exit(0);
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let cached = file as *mut CachedFile;
    (*cached).base.pMethods = std::ptr::null();
    let vfs = underlying();
    let size = (*vfs).szOsFile;
    let real = ffi::sqlite3_malloc(size) as *mut ffi::sqlite3_file;
    if real.is_null() {
        return ffi::SQLITE_NOMEM;
    }
    std::ptr::write_bytes(real.cast::<u8>(), 0, size as usize);
    let rc = ((*vfs).xOpen.unwrap())(vfs, name, real, flags, out_flags);
    if rc != ffi::SQLITE_OK {
        ffi::sqlite3_free(real.cast());
        return rc;
    }
    let tracked = flags & (ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_WAL) != 0;
    (*cached).real = real;
    (*cached).cache = Box::into_raw(Box::new(Cache {
        tracked,
        pending: Vec::new(),
    }));
    (*cached).base.pMethods = &METHODS;
    if tracked {
        OPEN.lock().unwrap().push(cached as usize);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // Closing without a sync leaves the writes in the page cache; this
    // model hands them to the file (the writer never closes before the cut).
    let pending = std::mem::take(&mut cache_of(file).pending);
    for op in &pending {
        apply(file, op, &mut || true);
    }
    OPEN.lock()
        .unwrap()
        .retain(|&address| address != file as usize);
    let (real, methods) = real_of(file);
    let rc = (methods.xClose.unwrap())(real);
    ffi::sqlite3_free(real.cast());
    drop(Box::from_raw((*(file as *mut CachedFile)).cache));
    rc
}

/// The file's size as the page cache sees it.
unsafe fn logical_size(file: *mut ffi::sqlite3_file) -> Result<u64, c_int> {
    let mut size = real_size(file)?;
    for op in &cache_of(file).pending {
        size = match op {
            Pending::Write { offset, data } => size.max(offset + data.len() as u64),
            Pending::Truncate(to) => *to,
        };
    }
    Ok(size)
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buffer: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let (real, methods) = real_of(file);
    let rc = (methods.xRead.unwrap())(real, buffer, amount, offset);
    if !cache_of(file).tracked || (rc != ffi::SQLITE_OK && rc != ffi::SQLITE_IOERR_SHORT_READ) {
        return rc;
    }
    let window = std::slice::from_raw_parts_mut(buffer.cast::<u8>(), amount as usize);
    let (start, end) = (offset as u64, offset as u64 + amount as u64);
    // Past the real end the buffer is zero-filled; the cache lays its
    // writes over it, in order.
    for op in &cache_of(file).pending {
        match op {
            Pending::Truncate(to) => {
                for (index, byte) in window.iter_mut().enumerate() {
                    if start + index as u64 >= *to {
                        *byte = 0;
                    }
                }
            }
            Pending::Write { offset, data } => {
                let from = start.max(*offset);
                let to = end.min(offset + data.len() as u64);
                if from < to {
                    window[(from - start) as usize..(to - start) as usize]
                        .copy_from_slice(&data[(from - offset) as usize..(to - offset) as usize]);
                }
            }
        }
    }
    match logical_size(file) {
        Ok(size) if size >= end => ffi::SQLITE_OK,
        Ok(size) => {
            for (index, byte) in window.iter_mut().enumerate() {
                if start + index as u64 >= size {
                    *byte = 0;
                }
            }
            ffi::SQLITE_IOERR_SHORT_READ
        }
        Err(rc) => rc,
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buffer: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    if !cache_of(file).tracked {
        let (real, methods) = real_of(file);
        return (methods.xWrite.unwrap())(real, buffer, amount, offset);
    }
    let data = std::slice::from_raw_parts(buffer.cast::<u8>(), amount as usize).to_vec();
    cache_of(file).pending.push(Pending::Write {
        offset: offset as u64,
        data,
    });
    tick();
    ffi::SQLITE_OK
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    if !cache_of(file).tracked {
        let (real, methods) = real_of(file);
        return (methods.xTruncate.unwrap())(real, size);
    }
    cache_of(file).pending.push(Pending::Truncate(size as u64));
    tick();
    ffi::SQLITE_OK
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    if cache_of(file).tracked {
        // The power may fail while the sync is under way.
        tick();
        let pending = std::mem::take(&mut cache_of(file).pending);
        for op in &pending {
            apply(file, op, &mut || true);
        }
    }
    let (real, methods) = real_of(file);
    (methods.xSync.unwrap())(real, flags)
}

unsafe extern "C" fn file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    match logical_size(file) {
        Ok(bytes) => {
            *size = bytes as ffi::sqlite3_int64;
            ffi::SQLITE_OK
        }
        Err(rc) => rc,
    }
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xLock.unwrap())(real, level)
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xUnlock.unwrap())(real, level)
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xCheckReservedLock.unwrap())(real, out)
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    argument: *mut c_void,
) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xFileControl.unwrap())(real, op, argument)
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xSectorSize.unwrap())(real)
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xDeviceCharacteristics.unwrap())(real)
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xShmMap.unwrap())(real, page, size, extend, out)
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xShmLock.unwrap())(real, offset, n, flags)
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    let (real, methods) = real_of(file);
    (methods.xShmBarrier.unwrap())(real)
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    let (real, methods) = real_of(file);
    (methods.xShmUnmap.unwrap())(real, delete)
}

/// Version 2: the shared-memory methods WAL needs, no memory mapping (so
/// every read comes through `read` and sees the cache).
static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: None,
    xUnfetch: None,
};

/// Makes the page-cache VFS the default of this process, to cut the power
/// at the `cut_at`-th write, truncation or sync.
fn install(cut_at: u64, seed: u64) {
    CUT_AT.store(cut_at, Ordering::Relaxed);
    RANDOM.store(seed | 1, Ordering::Relaxed);
    unsafe {
        let default = ffi::sqlite3_vfs_find(std::ptr::null());
        assert!(!default.is_null());
        UNDERLYING.set(default as usize).unwrap();
        let mut vfs: ffi::sqlite3_vfs = std::ptr::read(default);
        vfs.szOsFile = std::mem::size_of::<CachedFile>() as c_int;
        vfs.zName = c"perfuse-page-cache".as_ptr();
        vfs.pNext = std::ptr::null_mut();
        vfs.xOpen = Some(open);
        assert_eq!(
            ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 1),
            ffi::SQLITE_OK
        );
    }
}

/// The child: writes over the page-cache VFS until the cut.
fn write_until_the_power_fails(path: &str) -> ! {
    let number = |name: &str| -> u64 { std::env::var(name).unwrap().parse().unwrap() };
    let round = number("PERFUSE_POWERLOSS_ROUND");
    install(
        number("PERFUSE_POWERLOSS_CUT_AT"),
        number("PERFUSE_POWERLOSS_SEED"),
    );
    let mut log = EventLog::open(std::path::Path::new(path)).unwrap();
    write_steps(&mut log, round, 100_000);
    panic!("the power never failed");
}

fn iterations() -> u64 {
    std::env::var("PERFUSE_POWERLOSS_ITERATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200)
}

#[test]
fn power_loss_at_random_points_loses_no_committed_event_and_never_tears_the_program() {
    let _machine = crate::machine::shared();
    if let Ok(path) = std::env::var("PERFUSE_POWERLOSS_DB") {
        write_until_the_power_fails(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let rounds = iterations();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let (mut total_events, mut lost_sectors, mut written_sectors) = (0, 0, 0);
    let mut rounds_losing_writes = 0;
    let started = Instant::now();
    let this_test = perfuse_testkit::crash::test_name(
        module_path!(),
        "power_loss_at_random_points_loses_no_committed_event_and_never_tears_the_program",
    );
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // The first round creates the database (its schema takes some
        // writes); every round then cuts within its first few dozen commits.
        let cut_at = 1 + seed % 400;
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                this_test.as_str(),
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("PERFUSE_POWERLOSS_DB", &path)
            .env("PERFUSE_POWERLOSS_ROUND", round.to_string())
            .env("PERFUSE_POWERLOSS_CUT_AT", cut_at.to_string())
            .env("PERFUSE_POWERLOSS_SEED", (seed >> 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let (mut reported, mut cut) = (Reported::default(), None);
        for text in BufReader::new(output.stdout.as_slice())
            .lines()
            .map_while(Result::ok)
        {
            Reported::read(&text, &mut reported);
            let mut words = text.split_whitespace();
            if words.next() == Some("cut") {
                let mut next = || words.next().and_then(|n| n.parse::<u64>().ok()).unwrap();
                cut = Some((next(), next()));
            }
        }
        let (written, lost) = cut.unwrap_or_else(|| {
            panic!("round {round}: the writer ended without the cut: {output:?}")
        });
        written_sectors += written;
        lost_sectors += lost;
        rounds_losing_writes += u64::from(lost > 0);
        total_events += check_round(&path, round, &format!("cut at {cut_at}"), reported);
    }
    eprintln!(
        "power loss: {rounds} cuts in {:.1} s, {total_events} committed events all present, the program whole every time; \
         at the cuts {lost_sectors} unsynced sectors were lost and {written_sectors} reached the disk, \
         in {rounds_losing_writes} of the {rounds} cuts some were lost",
        started.elapsed().as_secs_f64()
    );
    assert!(
        rounds_losing_writes > rounds / 4,
        "the cuts hardly lost anything ({rounds_losing_writes} of {rounds}): the model is not exercised"
    );
}
