//! `pm2 logs` through a reader that stops reading: each place where lines were dropped is
//! marked there, with its own count, and nothing after a gap comes before its mark.

use crate::harness::logs::*;
use crate::harness::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const FLOOD: u64 = 100_000;

/// One line of the merged output of `pm2 logs --raw`.
#[derive(Debug, PartialEq)]
enum Seen {
    Line(u64),
    Skipped(u64),
}

fn parse(merged: &str) -> Vec<Seen> {
    let complete = &merged[..merged.rfind('\n').map_or(0, |end| end + 1)];
    complete
        .lines()
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("line ") {
                return rest.split(' ').next()?.parse().ok().map(Seen::Line);
            }
            let (count, _) = l.split_once(" log lines were skipped")?;
            count.rsplit(' ').next()?.parse().ok().map(Seen::Skipped)
        })
        .collect()
}

/// Every jump in the numbering is preceded, right there, by one mark counting exactly the
/// missing lines; a mark anywhere else is an error. Returns the number of gaps.
fn check_marks(seen: &[Seen]) -> Result<usize, String> {
    let mut next = 0u64;
    let mut mark: Option<u64> = None;
    let mut gaps = 0;
    for (at, s) in seen.iter().enumerate() {
        match *s {
            Seen::Skipped(n) if mark.is_some() => {
                return Err(format!("two marks in a row at item {at} ({n})"))
            }
            Seen::Skipped(n) => mark = Some(n),
            Seen::Line(i) => {
                let missing = i
                    .checked_sub(next)
                    .ok_or(format!("line {i} after {next}"))?;
                if mark.take().unwrap_or(0) != missing {
                    return Err(format!(
                        "item {at}: line {i} after line {}: {missing} missing, mark {:?}",
                        next as i64 - 1,
                        seen.get(at.wrapping_sub(1))
                    ));
                }
                gaps += usize::from(missing > 0);
                next = i + 1;
            }
        }
    }
    Ok(gaps)
}

/// The highest `line <n>` number in `text`.
fn last_line_number(text: &str) -> u64 {
    parse(text)
        .iter()
        .filter_map(|s| match s {
            Seen::Line(i) => Some(*i),
            Seen::Skipped(_) => None,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_stalled_reader_finds_each_gap_marked_in_place_with_its_own_count() {
    let p = Pm2::new("logs_gaps");
    p.fixture("gated.js");
    let gate = p.dir.join("gate");
    let flood = FLOOD.to_string();
    let gate_arg = gate.to_string_lossy().into_owned();
    p.ok(&[
        "start", "gated.js", "--name", "gated", "--", &gate_arg, &flood,
    ]);
    // One pipe for both streams, so the marks (stderr) keep their place among the lines.
    let s = LogsStream::spawn_merged(&p, &["logs", "gated", "--raw", "--lines", "0"]);
    s.wait_for(&p, "waiting", T);
    s.pause();
    std::fs::write(&gate, "").expect("open the gate");
    let file = p.log_path("gated-out.log");
    p.wait_until(T, "the flood in the out file", || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains(&format!("line {FLOOD} ")))
    });
    s.resume();
    // Every line written so far was delivered or dropped while the reader was stalled:
    // once a later line is through, every gap of the stall has been delivered with it.
    let written = last_line_number(&std::fs::read_to_string(&file).unwrap_or_default());
    s.wait_stdout(&p, T, "a line written after the stall", |out| {
        parse(out)
            .iter()
            .any(|s| matches!(s, Seen::Line(i) if *i > written))
    });
    let seen = parse(&s.stdout());
    match check_marks(&seen) {
        Ok(0) => p.fail(
            "the stalled reader missed nothing: the test did not stall it",
            None,
        ),
        Ok(_) => {}
        Err(problem) => p.fail(&format!("{problem}\n{}", s.report()), None),
    }
}

#[test]
fn the_mark_checker_catches_a_mark_out_of_place() {
    use Seen::*;
    assert_eq!(check_marks(&[Line(0), Skipped(2), Line(3), Line(4)]), Ok(1));
    assert!(
        check_marks(&[Line(0), Line(3)]).is_err(),
        "a jump without a mark"
    );
    assert!(
        check_marks(&[Skipped(2), Line(0), Line(3)]).is_err(),
        "a mark too early"
    );
    assert!(
        check_marks(&[Line(0), Skipped(1), Line(3)]).is_err(),
        "a wrong count"
    );
    assert!(check_marks(&[Line(0), Skipped(1), Skipped(1), Line(3)]).is_err());
}
