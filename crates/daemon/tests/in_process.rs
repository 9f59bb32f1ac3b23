//! The daemon run in-process (`pm2_daemon::run`) and spoken to over its real socket.

use pm2_daemon::DaemonSettings;
use pm2_home::Pm2Home;
use pm2_proto::{
    frame, Action, ActionRequest, AppSpec, Envelope, Reply, Request, Response, StartRequest,
    Status, Target,
};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

fn sleep_app(name: &str, cwd: &Path) -> AppSpec {
    AppSpec {
        name: name.into(),
        script: "/bin/sleep".into(),
        args: vec!["30".into()],
        cwd: cwd.to_string_lossy().into_owned(),
        env: [("PATH".to_string(), "/usr/bin:/bin".to_string())].into(),
        kill_timeout: Some(500),
        username: "test".into(),
        ..AppSpec::default()
    }
}

fn request(sock: &Path, request: Request) -> Response {
    let mut stream = UnixStream::connect(sock).expect("daemon socket accepts");
    let env = Envelope {
        client_version: pm2_proto::VERSION.into(),
        protocol: 1,
        request,
    };
    frame::write_blocking(&mut stream, &env).expect("request sent");
    let reply: Reply = frame::read_blocking(&mut stream)
        .expect("reply read")
        .expect("a reply, not EOF");
    reply.response
}

#[test]
fn serves_start_list_stop_and_survives_garbage() {
    let dir = std::env::temp_dir().join(format!("pm2-inproc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let home = Pm2Home::at(dir.join("home"));
    let sock = home.socket();
    let settings = DaemonSettings::from_env(home.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let daemon = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let ready = move || ready_tx.send(()).expect("the test waits for readiness");
        rt.block_on(pm2_daemon::run(
            settings,
            async {
                let _ = stop_rx.await;
            },
            ready,
        ))
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("daemon socket never opened");
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let start = Request::Start(StartRequest {
        apps: vec![sleep_app("sleeper", &dir)],
        force: false,
    });
    match request(&sock, start) {
        Response::Outcomes { outcomes } => assert!(outcomes[0].error.is_none()),
        other => panic!("start: {other:?}"),
    }
    let Response::List { processes } = request(&sock, Request::List) else {
        panic!("list")
    };
    assert_eq!(processes.len(), 1);
    assert_eq!(processes[0].status, Status::Online);
    let pid = processes[0].pid.expect("running pid");

    let mut raw = UnixStream::connect(&sock).unwrap();
    raw.write_all(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]).unwrap();
    assert!(matches!(
        request(&sock, Request::Ping),
        Response::Pong { .. }
    ));

    let stop = Request::Action(ActionRequest {
        action: Action::Stop,
        targets: vec![Target::Name("sleeper".into())],
        update_env: None,
        toggle_watch: false,
        patch: Default::default(),
    });
    assert!(matches!(request(&sock, stop), Response::Outcomes { .. }));
    assert!(
        !pm2_supervisor::alive(pid as i32),
        "stop replies after exit"
    );

    let _ = stop_tx.send(());
    daemon.join().unwrap().expect("daemon ran");
    assert!(!sock.exists(), "socket removed on shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}
