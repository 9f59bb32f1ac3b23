//! The append paths against files cut under them, as logrotate's copytruncate does.

use super::*;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pm2-append-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join("out.log")
}

/// The file opened as the sinks open it: read-write, without O_APPEND.
fn open(path: &PathBuf) -> File {
    OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(false)
        .open(path)
        .expect("open")
}

/// A pipe (read end non-blocking) holding `bytes`.
fn pipe_with(bytes: &[u8]) -> (OwnedFd, File) {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK).expect("pipe");
    let mut w = File::from(w);
    w.write_all(bytes).expect("fill the pipe");
    (r, w)
}

#[test]
fn append_after_a_truncation_writes_from_0() {
    let path = scratch("append");
    let file = open(&path);
    append(file.as_fd(), b"first\n").expect("append");
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(file.as_fd(), b"second\n").expect("append");
    assert_eq!(std::fs::read(&path).unwrap(), b"second\n");
}

#[test]
fn a_splice_goes_to_the_end_and_after_a_truncation_to_0() {
    let path = scratch("splice");
    let file = open(&path);
    append(file.as_fd(), b"kept\n").expect("append");
    let (r, _w) = pipe_with(b"spliced\n");
    let mut last = None;
    assert_eq!(
        splice_to_end(r.as_fd(), file.as_fd(), 1 << 20, &mut last).unwrap(),
        8
    );
    assert_eq!(
        last,
        Some((5, 8)),
        "the chunk to check before the next write"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"kept\nspliced\n");
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let (r, _w) = pipe_with(b"after\n");
    splice_to_end(r.as_fd(), file.as_fd(), 1 << 20, &mut last).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"after\n");
    let empty = splice_to_end(r.as_fd(), file.as_fd(), 1 << 20, &mut last).unwrap_err();
    assert_eq!(empty.error.kind(), std::io::ErrorKind::WouldBlock);
    assert!(empty.held.is_empty(), "nothing left the pipe");
}

#[test]
fn a_truncation_between_the_size_and_the_write_leaves_no_hole() {
    let path = scratch("hole");
    let file = open(&path);
    append(file.as_fd(), &[b'x'; 8192]).expect("append");
    // The race: the size was read (8192), then the file was cut, then the chunk landed.
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    nix::sys::uio::pwrite(file.as_fd(), b"chunk\n", 8192).expect("write past the cut");
    close_hole_before(file.as_fd(), 8192, 6).expect("close the hole");
    assert_eq!(std::fs::read(&path).unwrap(), b"chunk\n");
}

#[test]
fn a_cut_before_a_small_file_s_write_leaves_no_nul() {
    let path = scratch("small");
    let file = open(&path);
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    nix::sys::uio::pwrite(file.as_fd(), b"chunk\n", 100).expect("write past the cut");
    close_hole_before(file.as_fd(), 100, 6).expect("close the hole");
    assert_eq!(std::fs::read(&path).unwrap(), b"chunk\n");
}

#[test]
fn nuls_the_app_wrote_are_kept() {
    let path = scratch("nuls");
    let file = open(&path);
    append(file.as_fd(), &[0u8; 10000]).expect("append");
    append(file.as_fd(), b"after\n").expect("append");
    close_hole_before(file.as_fd(), 10000, 6).expect("check");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 10006);
}

#[test]
fn a_file_without_a_hole_is_left_alone() {
    let path = scratch("nohole");
    let file = open(&path);
    append(file.as_fd(), b"abc\ndef\n").expect("append");
    close_hole_before(file.as_fd(), 4, 4).expect("check");
    assert_eq!(std::fs::read(&path).unwrap(), b"abc\ndef\n");
}

#[test]
fn a_cut_just_before_the_last_splice_is_closed_up_by_the_next_end_check() {
    let path = scratch("late");
    let file = open(&path);
    append(file.as_fd(), &[b'x'; 1 << 20]).expect("append");
    let at = 1 << 20;
    let stat = nix::sys::stat::fstat(file.as_fd()).expect("fstat");
    assert!(
        !may_hide_a_hole(&stat, at),
        "a file written whole is not read"
    );
    // The race: the end was read (1 MiB), the file was cut, then the chunk landed there.
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    nix::sys::uio::pwrite(file.as_fd(), b"chunk\n", at as i64).expect("write past the cut");
    let stat = nix::sys::stat::fstat(file.as_fd()).expect("fstat");
    assert!(
        may_hide_a_hole(&stat, at),
        "a 1 MiB hole shows in the blocks"
    );
    let mut last = Some((at, 6));
    assert_eq!(end_checked(file.as_fd(), &mut last).expect("check"), 6);
    assert_eq!(last, None);
    assert_eq!(std::fs::read(&path).unwrap(), b"chunk\n");
}

#[test]
fn a_chunk_the_file_refuses_comes_back_from_the_stage_whole() {
    let path = scratch("refused");
    // O_APPEND: splice refuses it (EINVAL) once the chunk is in the stage.
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("open");
    let (r, _w) = pipe_with(b"one\ntwo\n");
    let mut last = None;
    let e = splice_to_end(r.as_fd(), file.as_fd(), 1 << 20, &mut last).unwrap_err();
    assert_eq!(e.held, b"one\ntwo\n", "{}", e.error);
    // The stage is empty again: the next chunk is the next one, alone.
    let (r2, _w2) = pipe_with(b"three\n");
    let e = splice_to_end(r2.as_fd(), file.as_fd(), 1 << 20, &mut last).unwrap_err();
    assert_eq!(e.held, b"three\n");
}
