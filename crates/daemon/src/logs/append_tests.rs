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
    assert_eq!(splice_to_end(r.as_fd(), file.as_fd(), 1 << 20).unwrap(), 8);
    assert_eq!(std::fs::read(&path).unwrap(), b"kept\nspliced\n");
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let (r, _w) = pipe_with(b"after\n");
    splice_to_end(r.as_fd(), file.as_fd(), 1 << 20).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"after\n");
    let empty = splice_to_end(r.as_fd(), file.as_fd(), 1 << 20).unwrap_err();
    assert_eq!(empty.kind(), std::io::ErrorKind::WouldBlock);
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
