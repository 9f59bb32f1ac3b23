//! Reading the state files back: the snapshot, its journal replayed, the older format.

use super::*;
use serde_json::json;

/// A fresh home under the temp dir, unique per test.
fn home(test: &str) -> Pm2Home {
    let dir = std::env::temp_dir().join(format!("pm2rs-state-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp home");
    Pm2Home::at(dir)
}

fn write_journal(home: &Pm2Home, records: &[Record], tail: &[u8]) {
    let mut bytes = Vec::new();
    for r in records {
        journal::encode(r, &mut bytes);
    }
    bytes.extend_from_slice(tail);
    std::fs::write(home.daemon_state_journal(), bytes).expect("journal");
}

fn write_snapshot(home: &Pm2Home, generation: u64, apps: Value) {
    let text = json!({"generation": generation, "apps": apps}).to_string();
    std::fs::write(home.daemon_state(), text).expect("snapshot");
}

fn put(id: u32, name: &str) -> Record {
    Record::Put {
        id,
        entry: json!({ "name": name }),
    }
}

fn names(home: &Pm2Home) -> Vec<String> {
    let apps = read_state(home).expect("a state").expect("readable");
    assert!(apps.iter().all(|a| a.get("pm_id").is_none()), "{apps:?}");
    apps.iter()
        .map(|a| a["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn no_snapshot_means_a_clean_exit() {
    let h = home("none");
    write_journal(&h, &[Record::Generation(1), put(0, "a")], b"");
    assert!(read_state(&h).is_none());
}

#[test]
fn the_journal_is_replayed_over_its_snapshot_in_id_order() {
    let h = home("replay");
    write_snapshot(
        &h,
        3,
        json!([{"name": "b", "pm_id": 1}, {"name": "c", "pm_id": 2}]),
    );
    let records = [
        Record::Generation(3),
        put(0, "a"),
        Record::Remove(2),
        put(1, "b2"),
    ];
    write_journal(&h, &records, b"");
    assert_eq!(names(&h), ["a", "b2"]);
}

#[test]
fn a_journal_of_another_generation_is_not_replayed() {
    let h = home("generation");
    write_snapshot(&h, 4, json!([{"name": "kept", "pm_id": 0}]));
    write_journal(&h, &[Record::Generation(3), Record::Remove(0)], b"");
    assert_eq!(names(&h), ["kept"]);
}

#[test]
fn a_torn_tail_keeps_the_whole_records_before_it() {
    let h = home("torn");
    write_snapshot(&h, 1, json!([]));
    write_journal(&h, &[Record::Generation(1), put(0, "a")], b"0000 {\"put\":");
    assert_eq!(names(&h), ["a"]);
}

#[test]
fn the_array_of_older_daemons_is_read_as_it_is() {
    let h = home("array");
    std::fs::write(h.daemon_state(), r#"[{"name":"old"}]"#).expect("state");
    assert_eq!(names(&h), ["old"]);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let h = home("garbage");
    std::fs::write(h.daemon_state(), "{not json").expect("state");
    assert!(matches!(read_state(&h), Some(Err(_))));
}
