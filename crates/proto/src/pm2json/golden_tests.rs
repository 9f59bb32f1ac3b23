//! `jlist`'s bytes: pinned by the golden file (written before the direct writer existed),
//! and the same from the writer as from `serde_json` over the map, for the samples and for
//! arbitrary environments.

use super::samples_tests::samples;
use super::{jlist, write_jlist};
use crate::model::ProcessInfo;
use crate::SharedEnv;
use proptest::prelude::*;

const GOLDEN: &str = include_str!("jlist_golden.json");

fn written(processes: &[ProcessInfo]) -> String {
    let mut out = Vec::new();
    write_jlist(processes, &mut out);
    String::from_utf8(out).expect("JSON is UTF-8")
}

#[test]
fn the_map_gives_the_golden_bytes() {
    let bytes = serde_json::to_string(&jlist(&samples())).unwrap();
    assert_eq!(bytes, GOLDEN);
}

#[test]
fn the_writer_gives_the_golden_bytes() {
    assert_eq!(written(&samples()), GOLDEN);
}

#[test]
fn instances_sharing_one_environment_each_get_it_whole() {
    let mut all = samples();
    let shared = all[0].spec.env.clone();
    for p in &mut all {
        p.spec.env = shared.clone();
    }
    assert_eq!(written(&all), serde_json::to_string(&jlist(&all)).unwrap());
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("name".to_string()),
        Just("status".to_string()),
        Just("env".to_string()),
        Just("PM2_HOME".to_string()),
        Just("unique_id".to_string()),
        Just("NODE_APP_INSTANCE".to_string()),
        Just("PORT".to_string()),
        Just("api".to_string()),
        "[a-zA-Z_\"\\\\\u{1}é]{0,6}",
    ]
}

proptest! {
    #[test]
    fn the_writer_and_the_map_agree(
        vars in proptest::collection::btree_map(word(), "[ -~\u{7f}\t\né✓]{0,8}", 0..12),
        name in word(),
        instance_var in word(),
        increment in proptest::option::of(word()),
        shared in any::<bool>(),
    ) {
        let mut all = samples();
        let env: SharedEnv = vars.into();
        for (i, p) in all.iter_mut().enumerate() {
            p.spec.env = if shared || i % 2 == 0 { env.clone() } else { env.iter().map(|(k, v)| (k.clone(), v.clone())).collect() };
            p.spec.name = name.clone();
            p.spec.instance_var = instance_var.clone();
            p.spec.increment_var = increment.clone();
            p.increment_value = increment.as_ref().map(|_| 3000 + i as i64);
        }
        prop_assert_eq!(written(&all), serde_json::to_string(&jlist(&all)).unwrap());
    }
}
