//! `--source-map-support`, `--disable-source-map-support` and `--no-automation`: PM2 7 turns
//! source maps on in every Node app (`process.setSourceMapsEnabled`), so a stack trace names
//! the original file; pm2-rs passes Node's `--enable-source-maps` instead of injecting code.

use crate::harness::Pm2;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// Writes `out.js`, "compiled" from `src.ts` line for line, with its source map: the error
/// it throws is on line 2 of both.
fn compiled_app(p: &Pm2) {
    let js = "function boom() {\n    throw new Error('from ts');\n}\nboom();\n\
              //# sourceMappingURL=out.js.map\n";
    let map = r#"{"version":3,"file":"out.js","sources":["src.ts"],"names":[],"mappings":"AAAA;AACA;AACA;AACA"}"#;
    let ts = "function boom(): never {\n    throw new Error('from ts');\n}\nboom();\n";
    for (name, text) in [("out.js", js), ("out.js.map", map), ("src.ts", ts)] {
        std::fs::write(p.dir.join(name), text).expect("write the compiled app");
    }
}

/// Observed with PM2 7.0.4: the error log of `start out.js` names `src.ts:2`; with
/// `--disable-source-map-support` it names `out.js:2` and pm2_env has
/// `disable_source_map_support: true`; `--source-map-support` shows `source_map_support:
/// true`; `--no-automation` shows `automation: false` and `pmx: false` (true by default).
fn source_maps_scenario(p: &Pm2) {
    compiled_app(p);
    p.ok(&["start", "out.js", "--name", "mapped", "--no-autorestart"]);
    p.ok(&[
        "start",
        "out.js",
        "--name",
        "plain",
        "--no-autorestart",
        "--disable-source-map-support",
    ]);
    p.ok(&[
        "start",
        "out.js",
        "--name",
        "forced",
        "--no-autorestart",
        "--source-map-support",
        "--no-automation",
    ]);
    p.wait_file_contains(&p.log_path("mapped-error.log"), "src.ts:2", T);
    p.wait_file_contains(&p.log_path("plain-error.log"), "out.js:2", T);
    let plain = std::fs::read_to_string(p.log_path("plain-error.log")).unwrap_or_default();
    assert!(!plain.contains("src.ts"), "{plain}");
    let [mapped, plain, forced] = [0, 1, 2].map(|id| p.app(id)["pm2_env"].clone());
    assert_eq!(mapped["automation"], true);
    assert_eq!(mapped["pmx"], true);
    assert!(mapped["source_map_support"].is_null(), "{mapped:#}");
    assert_eq!(plain["disable_source_map_support"], true, "{plain:#}");
    assert_eq!(forced["source_map_support"], true, "{forced:#}");
    assert_eq!(forced["automation"], false, "{forced:#}");
    assert_eq!(forced["pmx"], false, "{forced:#}");
    assert_eq!(
        mapped["node_args"],
        serde_json::json!([]),
        "not shown as a node arg"
    );
}

#[test]
fn node_apps_have_source_maps_unless_disabled() {
    source_maps_scenario(&Pm2::new("source_maps"));
}

#[test]
#[ignore = "reference run: needs PM2_REF"]
fn node_apps_have_source_maps_unless_disabled_reference() {
    source_maps_scenario(&Pm2::reference("source_maps_ref"));
}
