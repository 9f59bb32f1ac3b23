use super::*;
use pm2_proto::Target;

fn event(name: &str, data: &[u8]) -> LogEvent {
    LogEvent {
        pm_id: Some(0),
        name: name.into(),
        namespace: "default".into(),
        kind: LogKind::Out,
        data: data.into(),
        at: 0,
        exit: None,
    }
}

fn everything(hub: &LogHub) -> Subscription {
    hub.subscribe(Filter {
        targets: vec![],
        daemon: false,
    })
}

/// What the reader has right now, as `Ok(data)` per event and `Err(lines)` per gap.
fn drain(sub: &mut Subscription) -> Vec<Result<Vec<u8>, u64>> {
    std::iter::from_fn(|| sub.next_queued_or_gap())
        .map(|d| match d {
            Delivery::Event(e) => Ok(e.data.to_vec()),
            Delivery::Gap { lines } => Err(lines),
        })
        .collect()
}

#[tokio::test]
async fn a_full_reader_finds_the_gap_after_what_it_got_and_before_anything_later() {
    let hub = LogHub::default();
    let mut sub = everything(&hub);
    for i in 0..QUEUE + 10 {
        hub.publish_with(|| event("a", format!("{i}\n{i}\n").as_bytes()));
    }
    let got = drain(&mut sub);
    assert_eq!(got.len(), QUEUE + 1);
    assert_eq!(
        got[QUEUE - 1],
        Ok(format!("{0}\n{0}\n", QUEUE - 1).into_bytes())
    );
    assert_eq!(
        got[QUEUE],
        Err(20),
        "the mark comes after the last queued chunk"
    );
    drop(sub);
    assert_eq!(hub.count.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn each_gap_has_its_own_mark_and_count_where_it_is() {
    let hub = LogHub::default();
    let mut sub = everything(&hub);
    let big = line_of(600 * 1024);
    hub.publish_with(|| event("a", &big)); // queued (600 KiB)
    hub.publish_with(|| event("a", &big)); // no room: a gap of 1 line
    hub.publish_with(|| event("a", b"small\n")); // fits: the mark, then the chunk
    hub.publish_with(|| event("a", &big)); // no room again: a second gap
    hub.publish_with(|| event("a", b"1\n2\n3\n")); // fits
    let got = drain(&mut sub);
    assert_eq!(
        got,
        vec![
            Ok(big.clone()),
            Err(1),
            Ok(b"small\n".to_vec()),
            Err(1),
            Ok(b"1\n2\n3\n".to_vec())
        ]
    );
}

#[tokio::test]
async fn nothing_after_a_gap_gets_in_before_its_mark_fits() {
    let hub = LogHub::default();
    let mut sub = everything(&hub);
    let chunk = line_of(256 * 1024);
    for _ in 0..10 {
        hub.publish_with(|| event("a", &chunk));
    }
    // Later, smaller chunks are not slipped in behind the gap's back.
    hub.publish_with(|| event("a", b"late\n"));
    let got = drain(&mut sub);
    assert_eq!(
        got.len(),
        5,
        "{:?}",
        got.iter()
            .map(|g| g.as_ref().map(|d| d.len()))
            .collect::<Vec<_>>()
    );
    assert!(got[..4]
        .iter()
        .all(|g| g.as_ref().is_ok_and(|d| d.len() == chunk.len())));
    assert_eq!(got[4], Err(7), "6 chunks of one line each, plus `late`");
}

/// `len` bytes: one line, newline included.
fn line_of(len: usize) -> Vec<u8> {
    let mut line = vec![b'x'; len - 1];
    line.push(b'\n');
    line
}

#[tokio::test]
async fn a_line_torn_by_a_drop_counts_once_and_its_rest_is_not_delivered() {
    let hub = LogHub::default();
    let mut sub = everything(&hub);
    let full = vec![b'x'; QUEUE_BYTES];
    hub.publish_with(|| event("a", &full)); // queued: the reader is full
    hub.publish_with(|| event("a", b"1\n2\n3 head")); // lost: 1, 2 and 3
    hub.publish_with(|| event("a", b" middle")); // lost: still line 3
    let _ = sub.next_queued_or_gap(); // room again
    hub.publish_with(|| event("a", b" tail\n4\n5 ")); // line 3's tail is cut off
    hub.publish_with(|| event("a", b"end\n"));
    let got = drain(&mut sub);
    assert_eq!(
        got,
        vec![Err(3), Ok(b"4\n5 ".to_vec()), Ok(b"end\n".to_vec())]
    );
}

#[tokio::test]
async fn a_gap_that_ends_with_an_empty_queue_is_reported_by_the_reader() {
    let hub = LogHub::default();
    let mut sub = everything(&hub);
    for _ in 0..QUEUE + 3 {
        hub.publish_with(|| event("a", b"x\n"));
    }
    for _ in 0..QUEUE {
        assert!(matches!(sub.recv().await, Some(Delivery::Event(_))));
    }
    assert!(matches!(sub.recv().await, Some(Delivery::Gap { lines: 3 })));
    hub.publish_with(|| event("a", b"after\n"));
    match sub.recv().await {
        Some(Delivery::Event(e)) => assert_eq!(&*e.data, b"after\n"),
        other => panic!("expected the next event, got {other:?}"),
    }
}

#[tokio::test]
async fn a_chunk_bigger_than_the_byte_bound_reaches_an_idle_reader() {
    let hub = LogHub::default();
    let mut sub = everything(&hub);
    let huge = vec![b'x'; 2 * QUEUE_BYTES];
    hub.publish_with(|| event("a", &huge));
    assert_eq!(drain(&mut sub).len(), 1);
}

#[tokio::test]
async fn filters_by_name_and_namespace() {
    let hub = LogHub::default();
    let mut sub = hub.subscribe(Filter {
        targets: vec![Target::Name("b".into())],
        daemon: false,
    });
    hub.publish_with(|| event("a", b"no\n"));
    hub.publish_with(|| event("b", b"yes\n"));
    match sub.recv().await {
        Some(Delivery::Event(got)) => assert_eq!(&*got.name, "b"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn filters_by_regex_and_an_invalid_regex_matches_nothing() {
    let hub = LogHub::default();
    let mut sub = hub.subscribe(Filter {
        targets: vec![Target::Regex("^ap".into())],
        daemon: false,
    });
    let mut bad = hub.subscribe(Filter {
        targets: vec![Target::Regex("(".into())],
        daemon: false,
    });
    hub.publish_with(|| event("web", b"no\n"));
    hub.publish_with(|| event("api", b"yes\n"));
    match sub.recv().await {
        Some(Delivery::Event(got)) => assert_eq!(&*got.name, "api"),
        other => panic!("{other:?}"),
    }
    assert!(drain(&mut bad).is_empty());
}
