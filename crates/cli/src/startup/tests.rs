//! Unit tests of the parts the end-to-end tests cannot reach (they run as root): the
//! non-root hint, and the pure helpers.

use super::platform::{self, Platform, Target};
use super::templates::{self, Values};
use super::*;

fn hint<'a>(verb: &'a str, pm2: &'a Path, node: &'a Path) -> NotRoot<'a> {
    NotRoot {
        verb,
        platform: "systemd",
        user: "alice",
        home: "/home/alice",
        node_dir: node,
        pm2,
        service_name: None,
        wait_ip: false,
    }
}

#[test]
fn not_root_hint_is_pm2s_sudo_line() {
    let (pm2, node) = (Path::new("/opt/pm2/bin/pm2"), Path::new("/usr/local/bin"));
    let h = hint("startup", pm2, node);
    assert_eq!(
        h.heading(),
        "To setup the Startup Script, copy/paste the following command:"
    );
    assert_eq!(
        h.command(),
        "sudo env PATH=$PATH:/usr/local/bin /opt/pm2/bin/pm2 startup systemd -u alice --hp /home/alice"
    );
}

#[test]
fn not_root_hint_for_unstartup_and_extra_options() {
    let (pm2, node) = (Path::new("/usr/bin/pm2"), Path::new("/usr/bin"));
    let mut h = hint("unstartup", pm2, node);
    h.service_name = Some("myapp");
    h.wait_ip = true;
    assert_eq!(
        h.heading(),
        "To unsetup the Startup Script, copy/paste the following command:"
    );
    assert_eq!(
        h.command(),
        "sudo env PATH=$PATH:/usr/bin /usr/bin/pm2 unstartup systemd -u alice --hp /home/alice \
         --service-name myapp --wait-ip"
    );
}

#[test]
fn startup_node_path_appends_node_dir_only_when_missing() {
    let path = "/usr/bin:/bin".to_string();
    assert_eq!(node_path(path.clone(), None), "/usr/bin:/bin");
    assert_eq!(
        node_path(path.clone(), Some(Path::new("/usr/bin"))),
        "/usr/bin:/bin"
    );
    assert_eq!(
        node_path(path, Some(Path::new("/opt/node/bin"))),
        "/usr/bin:/bin:/opt/node/bin"
    );
}

#[test]
fn startup_platform_names_and_aliases() {
    for p in Platform::ALL {
        assert_eq!(Platform::parse(p.name()), Some(p));
    }
    assert_eq!(Platform::parse("ubuntu"), Some(Platform::Systemd));
    assert_eq!(Platform::parse("centos6"), Some(Platform::Systemv));
    assert_eq!(Platform::parse("macos"), Some(Platform::Launchd));
    assert_eq!(Platform::parse("freebsd"), Some(Platform::Rcd));
    assert_eq!(Platform::parse("openbsd"), Some(Platform::RcdOpenbsd));
    assert_eq!(Platform::parse("solaris"), Some(Platform::Smf));
    assert_eq!(Platform::parse("windows"), None);
}

fn target<'a>(service_name: Option<&'a str>) -> Target<'a> {
    Target {
        user: "bob",
        service_name,
        wait_ip: false,
        home_dir: Path::new("/Users/bob"),
        tmp_dir: Path::new("/tmp"),
    }
}

#[test]
fn startup_plans_follow_pm2s_names_and_paths() {
    let cases = [
        (
            Platform::Systemd,
            "/etc/systemd/system/pm2-bob.service",
            0o644,
        ),
        (Platform::Upstart, "/etc/init.d/pm2-bob", 0o755),
        (Platform::Systemv, "/etc/init.d/pm2-bob", 0o755),
        (Platform::Openrc, "/etc/init.d/pm2", 0o755),
        (
            Platform::Launchd,
            "/Users/bob/Library/LaunchAgents/pm2.bob.plist",
            0o644,
        ),
        (Platform::Rcd, "/usr/local/etc/rc.d/pm2_bob", 0o755),
        (Platform::RcdOpenbsd, "/etc/rc.d/pm2_bob", 0o755),
        (Platform::Smf, "/tmp/pm2_bob.xml", 0o644),
    ];
    for (p, dest, mode) in cases {
        let plan = platform::plan(p, &target(None));
        assert_eq!(plan.destination, Path::new(dest), "{p:?}");
        assert_eq!(plan.mode, mode, "{p:?}");
        assert!(!plan.enable.is_empty() && !plan.disable.is_empty(), "{p:?}");
    }
    let named = platform::plan(Platform::Systemd, &target(Some("myapp")));
    assert_eq!(
        named.destination,
        Path::new("/etc/systemd/system/myapp.service")
    );
    assert_eq!(named.enable, ["systemctl enable myapp"]);
    assert_eq!(
        named.disable,
        ["systemctl stop myapp", "systemctl disable myapp"]
    );
    let openrc = platform::plan(Platform::Openrc, &target(Some("ignored")));
    assert_eq!(openrc.service_name, "pm2");
}

#[test]
fn startup_fill_replaces_every_placeholder() {
    let v = Values {
        pm2_path: "/x/pm2".into(),
        node_path: "/usr/bin".into(),
        user: "bob".into(),
        home_path: "/home/bob/.pm2".into(),
        service_name: "pm2-bob".into(),
    };
    for t in [
        templates::SYSTEMD,
        templates::SYSTEMD_ONLINE,
        templates::UPSTART,
        templates::OPENRC,
        templates::LAUNCHD,
        templates::RCD,
        templates::RCD_OPENBSD,
        templates::SMF,
    ] {
        let filled = templates::fill(t, &v);
        for placeholder in [
            "%PM2_PATH%",
            "%NODE_PATH%",
            "%USER%",
            "%HOME_PATH%",
            "%SERVICE_NAME%",
        ] {
            assert!(
                !filled.contains(placeholder),
                "{placeholder} left in {filled}"
            );
        }
        assert!(filled.contains("/x/pm2"), "{filled}");
    }
    let unit = templates::fill(templates::SYSTEMD, &v);
    assert!(unit.contains("ExecStart=/x/pm2 resurrect\n"));
    assert!(unit.contains("PIDFile=/home/bob/.pm2/pm2.pid\n"));
}

#[test]
fn startup_command_list_prints_like_node() {
    assert_eq!(command_list(&[]), "[]");
    assert_eq!(command_list(&["a b".into(), "c".into()]), "[ 'a b', 'c' ]");
}

#[test]
fn startup_write_atomic_sets_mode_and_replaces() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("pm2rs-startup-unit-{}", std::process::id()));
    let path = dir.join("a/b/script");
    write_init_script(&path, b"one", 0o755).expect("first write");
    write_init_script(&path, b"two", 0o755).expect("second write");
    assert_eq!(std::fs::read_to_string(&path).expect("read back"), "two");
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    let leftovers = std::fs::read_dir(path.parent().expect("parent"))
        .expect("list")
        .count();
    assert_eq!(leftovers, 1, "no partial file left behind");
    let _ = std::fs::remove_dir_all(&dir);
}
