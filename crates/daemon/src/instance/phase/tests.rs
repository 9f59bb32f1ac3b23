//! The transition table: every phase × every event, with the phase after and the effects.
//!
//! The phase's child is `1`, a child an event brings is `2`. Deadlines are written as
//! milliseconds after the test's start: `waiting+500`, `launching(1)+3000`.

use super::{Effect, Event, Exit, Phase};
use pm2_proto::Status;
use pm2_supervisor::ExitDecision;
use std::time::Duration;
use tokio::time::Instant;

const PHASES: [&str; 8] = [
    "stopped",
    "errored",
    "waiting+500",
    "spawning",
    "launching(1)+3000",
    "online(1)",
    "stopping",
    "exited",
];

const EVENTS: [&str; 15] = [
    "start",
    "due",
    "spawned-waits",
    "spawned",
    "spawn-failed",
    "ready",
    "exited",
    "decided-stop",
    "decided-errored",
    "decided-now",
    "decided-after",
    "stop",
    "ended",
    "replaced-waits",
    "replaced",
];

/// (phase, event, phase after, effects). Rows not listed keep the phase and retire the child
/// the event brings (`unexpected` below).
const CHANGES: &[(&str, &str, &str, &str)] = &[
    ("stopped", "start", "spawning", "spawn"),
    ("errored", "start", "spawning", "spawn"),
    ("errored", "stop", "stopped", "publish"),
    ("waiting+500", "start", "spawning", "spawn"),
    ("waiting+500", "due", "spawning", "count spawn"),
    ("waiting+500", "stop", "stopped", "publish"),
    ("spawning", "spawned-waits", "launching(2)+3000", "publish"),
    ("spawning", "spawned", "online(2)", "publish announce"),
    ("spawning", "spawn-failed", "errored", "publish"),
    (
        "launching(1)+3000",
        "due",
        "online(1)",
        "publish announce(listen timeout)",
    ),
    (
        "launching(1)+3000",
        "ready",
        "online(1)",
        "publish announce(ready)",
    ),
    ("launching(1)+3000", "exited", "exited", "reap(1:3)"),
    ("launching(1)+3000", "stop", "stopping", "publish end(1)"),
    (
        "launching(1)+3000",
        "replaced-waits",
        "online(2)",
        "publish announce(reload) retire(1)",
    ),
    (
        "launching(1)+3000",
        "replaced",
        "online(2)",
        "publish announce retire(1)",
    ),
    ("online(1)", "exited", "exited", "reap(1:3)"),
    ("online(1)", "stop", "stopping", "publish end(1)"),
    (
        "online(1)",
        "replaced-waits",
        "online(2)",
        "publish announce(reload) retire(1)",
    ),
    (
        "online(1)",
        "replaced",
        "online(2)",
        "publish announce retire(1)",
    ),
    ("stopping", "ended", "stopped", "publish"),
    ("exited", "decided-stop", "stopped", "publish"),
    ("exited", "decided-errored", "errored", "publish"),
    ("exited", "decided-now", "spawning", "publish count spawn"),
    ("exited", "decided-after", "waiting+1000", "publish"),
];

/// What an event no phase row lists does: nothing, except that a child it brings is retired.
fn unexpected(event: &str) -> &'static str {
    if event.starts_with("spawned") || event.starts_with("replaced") {
        "retire(2)"
    } else {
        ""
    }
}

fn at(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

fn phase(name: &str, t0: Instant) -> Phase<u32> {
    match name {
        "stopped" => Phase::Stopped,
        "errored" => Phase::Errored,
        "waiting+500" => Phase::WaitingRestart { at: at(t0, 500) },
        "spawning" => Phase::Spawning,
        "launching(1)+3000" => Phase::Launching {
            child: 1,
            ready_by: at(t0, 3000),
        },
        "online(1)" => Phase::Online { child: 1 },
        "stopping" => Phase::Stopping,
        "exited" => Phase::Exited,
        other => panic!("unknown phase {other}"),
    }
}

fn event(name: &str, t0: Instant) -> Event<u32> {
    let decided = |decision| Event::Decided { decision, now: t0 };
    match name {
        "start" => Event::Start,
        "due" => Event::Due,
        "spawned-waits" => Event::Spawned {
            child: 2,
            ready_by: Some(at(t0, 3000)),
        },
        "spawned" => Event::Spawned {
            child: 2,
            ready_by: None,
        },
        "spawn-failed" => Event::SpawnFailed,
        "ready" => Event::Ready,
        "exited" => Event::Exited(Exit {
            code: 3,
            signal: None,
        }),
        "decided-stop" => decided(ExitDecision::Stop),
        "decided-errored" => decided(ExitDecision::Errored),
        "decided-now" => decided(ExitDecision::RestartNow),
        "decided-after" => decided(ExitDecision::RestartAfter(1000)),
        "stop" => Event::Stop,
        "ended" => Event::Ended,
        "replaced-waits" => Event::Replaced {
            child: 2,
            waits: true,
        },
        "replaced" => Event::Replaced {
            child: 2,
            waits: false,
        },
        other => panic!("unknown event {other}"),
    }
}

fn ms_after(t: Instant, t0: Instant) -> u128 {
    t.duration_since(t0).as_millis()
}

fn phase_label(p: &Phase<u32>, t0: Instant) -> String {
    match p {
        Phase::Stopped => "stopped".into(),
        Phase::Errored => "errored".into(),
        Phase::WaitingRestart { at } => format!("waiting+{}", ms_after(*at, t0)),
        Phase::Spawning => "spawning".into(),
        Phase::Launching { child, ready_by } => {
            format!("launching({child})+{}", ms_after(*ready_by, t0))
        }
        Phase::Online { child } => format!("online({child})"),
        Phase::Stopping => "stopping".into(),
        Phase::Exited => "exited".into(),
    }
}

fn effect_label(e: &Effect<u32>) -> String {
    match e {
        Effect::Publish => "publish".into(),
        Effect::Announce(None) => "announce".into(),
        Effect::Announce(Some(why)) => format!("announce({why})"),
        Effect::CountRestart => "count".into(),
        Effect::Spawn => "spawn".into(),
        Effect::End(c) => format!("end({c})"),
        Effect::Reap(c, exit) => format!("reap({c}:{})", exit.code),
        Effect::Retire(c) => format!("retire({c})"),
    }
}

fn expected(from: &str, ev: &str) -> (String, String) {
    let rows: Vec<_> = CHANGES
        .iter()
        .filter(|(p, e, _, _)| *p == from && *e == ev)
        .collect();
    match rows.as_slice() {
        [] => (from.to_string(), unexpected(ev).to_string()),
        [(_, _, to, effects)] => (to.to_string(), effects.to_string()),
        _ => panic!("({from}, {ev}) is listed twice"),
    }
}

#[test]
fn every_phase_meets_every_event_as_the_table_says() {
    let t0 = Instant::now();
    for from in PHASES {
        for ev in EVENTS {
            let (after, effects) = phase(from, t0).next(event(ev, t0));
            let effects: Vec<_> = effects.iter().map(effect_label).collect();
            let got = (phase_label(&after, t0), effects.join(" "));
            assert_eq!(got, expected(from, ev), "{from} × {ev}");
        }
    }
}

#[test]
fn the_table_names_only_known_phases_and_events() {
    for (from, ev, to, _) in CHANGES {
        assert!(PHASES.contains(from), "{from}");
        assert!(EVENTS.contains(ev), "{ev}");
        assert!(
            PHASES.contains(to)
                || to.starts_with("waiting")
                || to.starts_with("launching(2)")
                || *to == "online(2)",
            "{to}"
        );
    }
}

#[test]
fn pm2_status_names_derive_from_the_phase() {
    let t0 = Instant::now();
    let cases = [
        ("stopped", Status::Stopped),
        ("errored", Status::Errored),
        ("waiting+500", Status::WaitingRestart),
        ("spawning", Status::Launching),
        ("launching(1)+3000", Status::Launching),
        ("online(1)", Status::Online),
        ("stopping", Status::Stopping),
        ("exited", Status::Stopped),
    ];
    for (name, status) in cases {
        assert_eq!(phase(name, t0).status(), status, "{name}");
    }
}

#[test]
fn only_launching_and_online_have_a_child_and_only_timed_phases_a_deadline() {
    let t0 = Instant::now();
    for name in PHASES {
        let p = phase(name, t0);
        let live = name.starts_with("launching") || name.starts_with("online");
        assert_eq!(p.child().is_some(), live, "{name}");
        let timed = name.starts_with("launching") || name.starts_with("waiting");
        assert_eq!(p.deadline().is_some(), timed, "{name}");
    }
}
