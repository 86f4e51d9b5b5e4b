//! The docker backend end to end through the real binary, with a fake `docker` executable
//! (tests/fixtures/fake-docker) first on PATH that plays each scenario and records its argv.
//! Where the containers must answer API calls, the fake publishes them on the port of a real
//! embedded engine started by the test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kinlocal::engine::{self, Engine, EngineConfig};

use crate::support::{kinesis_client, TestEngine};
use crate::up_support::{describe, fixture, stderr, Setup};

/// A set-up whose `docker` is the fake, playing `scenario`, reporting `port` for containers.
fn with_fake_docker(scenario: &str, port: u16) -> Setup {
    let mut setup = Setup::new();
    let bin = setup.dir.path().join("bin");
    let containers = setup.dir.path().join("containers");
    std::fs::create_dir_all(&bin).expect("mkdir bin");
    std::fs::create_dir_all(&containers).expect("mkdir containers");
    std::os::unix::fs::symlink(fixture("fake-docker"), bin.join("docker")).expect("symlink");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let log = setup.dir.path().join("docker.log");
    setup.env = vec![
        ("PATH".into(), path),
        ("FAKE_DOCKER_LOG".into(), log.display().to_string()),
        ("FAKE_DOCKER_STATE".into(), containers.display().to_string()),
        ("FAKE_DOCKER_SCENARIO".into(), scenario.into()),
        ("FAKE_DOCKER_PORT".into(), port.to_string()),
    ];
    setup
}

/// Every argv the fake received, oldest first, and forgets them.
fn calls(setup: &Setup) -> Vec<Vec<String>> {
    let log = setup.dir.path().join("docker.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    text.lines()
        .map(|l| serde_json::from_str(l).expect("argv JSON"))
        .collect()
}

fn containers_dir(setup: &Setup) -> PathBuf {
    setup.dir.path().join("containers")
}

fn live_containers(setup: &Setup) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(containers_dir(setup))
        .expect("read containers")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn v(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn ps(name: &str) -> Vec<String> {
    v(&[
        "ps",
        "--all",
        "--filter",
        &format!("name=^/?{name}$"),
        "--filter",
        "label=dev.kinlocal.managed=true",
        "--format",
        "{{.Names}}\t{{.State}}",
    ])
}

fn port_of(endpoint: &str) -> u16 {
    endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_happy_path_runs_both_containers_and_down_removes_exactly_them() {
    let engine = TestEngine::start();
    let setup = with_fake_docker("happy", port_of(&engine.endpoint));
    let stdout = setup.up_ok(&["--backend", "docker", "--stream", "orders:2"]);
    assert_eq!(
        calls(&setup),
        vec![
            v(&["version", "--format", "{{.Server.Version}}"]),
            ps("kinlocal-kinesis"),
            v(&[
                "run",
                "--detach",
                "--name",
                "kinlocal-kinesis",
                "--label",
                "dev.kinlocal.managed=true",
                "--label",
                "dev.kinlocal.role=kinesis",
                "--publish",
                "127.0.0.1:4566:4568",
                "--env",
                "AWS_REGION=us-east-1",
                "ghcr.io/etspaceman/kinesis-mock:0.5.2",
            ]),
            v(&["port", "kinlocal-kinesis", "4568/tcp"]),
            ps("kinlocal-dynamodb"),
            v(&[
                "run",
                "--detach",
                "--name",
                "kinlocal-dynamodb",
                "--label",
                "dev.kinlocal.managed=true",
                "--label",
                "dev.kinlocal.role=dynamodb",
                "--publish",
                "127.0.0.1:4567:8000",
                "amazon/dynamodb-local:2.6.1",
                "-jar",
                "DynamoDBLocal.jar",
                "-sharedDb",
                "-inMemory",
            ]),
            v(&["port", "kinlocal-dynamodb", "8000/tcp"]),
        ]
    );
    let e = &engine.endpoint;
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            format!(
                "started kinesis container kinlocal-kinesis (ghcr.io/etspaceman/kinesis-mock:0.5.2) on {e}"
            ),
            format!("started dynamodb container kinlocal-dynamodb (amazon/dynamodb-local:2.6.1) on {e}"),
            "created stream orders (2 shards)".to_string(),
            format!("endpoint {e}"),
        ]
    );
    let state = setup.state().expect("state");
    assert_eq!(state.backend, "docker");
    assert_eq!(state.containers, ["kinlocal-kinesis", "kinlocal-dynamodb"]);
    assert_eq!(state.pid, None);
    // The stream really is there, created through the "container".
    let k = kinesis_client(e).await;
    assert_eq!(
        k.list_streams().send().await.expect("list").stream_names(),
        ["orders"]
    );

    let (code, status) = setup.status_json();
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["backend"], "docker");
    assert_eq!(
        status["containers"],
        serde_json::json!(["kinlocal-kinesis", "kinlocal-dynamodb"])
    );

    let down = setup.run("down", &[]);
    assert!(down.status.success(), "{}", describe(&down));
    assert_eq!(
        String::from_utf8_lossy(&down.stdout),
        "removed container kinlocal-kinesis\nremoved container kinlocal-dynamodb\n"
    );
    assert_eq!(
        calls(&setup),
        vec![
            ps("kinlocal-kinesis"),
            v(&["rm", "--force", "--volumes", "kinlocal-kinesis"]),
            ps("kinlocal-dynamodb"),
            v(&["rm", "--force", "--volumes", "kinlocal-dynamodb"]),
        ]
    );
    assert!(live_containers(&setup).is_empty());
    let again = setup.run("down", &[]);
    assert!(again.status.success(), "{}", describe(&again));
    assert!(calls(&setup).is_empty(), "a second down touches no container");
}

#[test]
fn auto_picks_docker_with_prefix_images_ports_and_persistence() {
    let engine = TestEngine::start();
    let setup = with_fake_docker("happy", port_of(&engine.endpoint));
    let data = setup.dir.path().join("data");
    setup.up_ok(&[
        "--name-prefix",
        "ci-42",
        "--port",
        "5000",
        "--dynamodb-port",
        "6000",
        "--kinesis-image",
        "example.org/kinesis:1",
        "--kinesis-container-port",
        "4567",
        "--persist",
        data.to_str().expect("utf8"),
    ]);
    let calls = calls(&setup);
    let runs: Vec<&Vec<String>> = calls.iter().filter(|c| c[0] == "run").collect();
    assert_eq!(
        *runs[0],
        v(&[
            "run",
            "--detach",
            "--name",
            "ci-42-kinesis",
            "--label",
            "dev.kinlocal.managed=true",
            "--label",
            "dev.kinlocal.role=kinesis",
            "--publish",
            "127.0.0.1:5000:4567",
            "--env",
            "AWS_REGION=us-east-1",
            "--env",
            "SHOULD_PERSIST_DATA=true",
            "--env",
            "PERSIST_PATH=/data",
            "--volume",
            &format!("{}:/data", data.join("kinesis").display()),
            "example.org/kinesis:1",
        ])
    );
    assert_eq!(
        *runs[1],
        v(&[
            "run",
            "--detach",
            "--name",
            "ci-42-dynamodb",
            "--label",
            "dev.kinlocal.managed=true",
            "--label",
            "dev.kinlocal.role=dynamodb",
            "--publish",
            "127.0.0.1:6000:8000",
            "--volume",
            &format!("{}:/home/dynamodblocal/data", data.join("dynamodb").display()),
            "amazon/dynamodb-local:2.6.1",
            "-jar",
            "DynamoDBLocal.jar",
            "-sharedDb",
            "-dbPath",
            "/home/dynamodblocal/data",
        ])
    );
    assert!(calls.contains(&v(&["port", "ci-42-kinesis", "4567/tcp"])));
    assert!(
        data.join("kinesis").is_dir(),
        "mount points created by us, not by the daemon"
    );
    assert_eq!(live_containers(&setup), ["ci-42-dynamodb", "ci-42-kinesis"]);
}

#[test]
fn running_containers_are_reused_not_duplicated() {
    let engine = TestEngine::start();
    let setup = with_fake_docker("happy", port_of(&engine.endpoint));
    for name in ["kinlocal-kinesis", "kinlocal-dynamodb"] {
        std::fs::write(containers_dir(&setup).join(name), "running").expect("pre-create");
    }
    let stdout = setup.up_ok(&["--backend", "docker"]);
    assert!(
        stdout.contains("reused running kinesis container kinlocal-kinesis"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reused running dynamodb container kinlocal-dynamodb"),
        "{stdout}"
    );
    let calls = calls(&setup);
    assert!(
        !calls.iter().any(|c| c[0] == "run" || c[0] == "start"),
        "{calls:?}"
    );
    // A stopped one is started again, keeping its data.
    std::fs::write(containers_dir(&setup).join("kinlocal-dynamodb"), "exited").expect("stop");
    std::fs::remove_file(setup.state_dir.join("state.json")).expect("forget state");
    let stdout = setup.up_ok(&["--backend", "docker"]);
    assert!(
        stdout.contains("restarted dynamodb container kinlocal-dynamodb"),
        "{stdout}"
    );
    assert!(calls_contains(&setup, &v(&["start", "kinlocal-dynamodb"])));
}

fn calls_contains(setup: &Setup, argv: &[String]) -> bool {
    calls(setup).iter().any(|c| c == argv)
}

#[test]
fn auto_falls_back_to_embedded_when_the_daemon_is_down() {
    let setup = with_fake_docker("daemon-down", 1);
    let stdout = setup.up_ok(&["--port", "0"]);
    assert!(
        stdout.starts_with("Docker not usable, using the embedded engine: the Docker daemon is not running"),
        "{stdout}"
    );
    assert_eq!(setup.state().expect("state").backend, "embedded");
    assert_eq!(
        calls(&setup),
        vec![v(&["version", "--format", "{{.Server.Version}}"])]
    );
}

#[test]
fn auto_falls_back_to_embedded_when_docker_is_not_installed() {
    let mut setup = Setup::new();
    let empty = setup.dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).expect("mkdir");
    setup.env = vec![("PATH".into(), empty.display().to_string())];
    let stdout = setup.up_ok(&["--port", "0"]);
    assert!(stdout.contains("docker is not installed"), "{stdout}");
    assert_eq!(setup.state().expect("state").backend, "embedded");
}

/// `up --backend docker` in a failing scenario: exit 1, stderr, and nothing left running.
fn fails(scenario: &str, extra: &[&str]) -> (String, Setup) {
    let setup = with_fake_docker(scenario, 1);
    let mut args = vec!["--backend", "docker"];
    args.extend_from_slice(extra);
    let out = setup.run("up", &args);
    assert_eq!(out.status.code(), Some(1), "{scenario}: {}", describe(&out));
    assert!(out.stdout.is_empty(), "{scenario}: {}", describe(&out));
    assert!(
        live_containers(&setup).is_empty(),
        "{scenario}: nothing left behind"
    );
    assert!(setup.state().is_none(), "{scenario}: no state for a failed start");
    (stderr(&out), setup)
}

#[test]
fn docker_not_installed_is_named() {
    let mut setup = Setup::new();
    let empty = setup.dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).expect("mkdir");
    setup.env = vec![("PATH".into(), empty.display().to_string())];
    let out = setup.run("up", &["--backend", "docker"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "kinlocal: docker is not installed (no `docker` on PATH): install Docker, or use --backend embedded"
    );
}

#[test]
fn daemon_not_running_is_named() {
    let (err, setup) = fails("daemon-down", &[]);
    assert!(err.contains("the Docker daemon is not running (Cannot connect to the Docker daemon at unix:///var/run/docker.sock"), "{err}");
    assert!(err.contains("start Docker"), "{err}");
    assert_eq!(calls(&setup).len(), 1, "stops at `docker version`");
}

#[test]
fn permission_denied_on_the_socket_is_named() {
    let (err, _) = fails("permission-denied", &[]);
    assert!(err.contains("permission denied on the Docker socket"), "{err}");
    assert!(err.contains("usermod -aG docker"), "{err}");
}

#[test]
fn port_already_allocated_is_named() {
    let (err, setup) = fails("port-allocated", &["--port", "4999"]);
    assert!(
        err.contains("port 4999 on 127.0.0.1 is already allocated"),
        "{err}"
    );
    assert!(err.contains("--port"), "{err}");
    assert!(!calls(&setup)
        .iter()
        .any(|c| c.contains(&"kinlocal-dynamodb".to_string()) && c[0] == "run"));
}

#[test]
fn image_not_available_is_named() {
    let (err, _) = fails(
        "image-missing",
        &["--kinesis-image", "ghcr.io/etspaceman/kinesis-mock:0.0.0-nope"],
    );
    assert!(
        err.contains("image ghcr.io/etspaceman/kinesis-mock:0.0.0-nope is not available"),
        "{err}"
    );
    assert!(err.contains("manifest unknown"), "{err}");
    assert!(err.contains("--kinesis-image"), "{err}");
}

/// An embedded engine started on a given port after `delay`; until then the port is held by a
/// listener that never accepts, like a container whose port is published before its server
/// answers.
struct LateEngine {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LateEngine {
    fn start(delay: Duration) -> (Self, u16) {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = holder.local_addr().expect("addr").port();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(delay);
            drop(holder);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let engine: Arc<Engine> = Engine::open(EngineConfig::default()).expect("engine");
                let (listener, _) = engine::bind("127.0.0.1", port)
                    .await
                    .expect("rebind the held port");
                engine::run(listener, engine, async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serve");
            });
        });
        (
            Self {
                stop: Some(stop_tx),
                thread: Some(thread),
            },
            port,
        )
    }
}

impl Drop for LateEngine {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn slow_readiness_is_waited_for_with_real_api_calls() {
    let delay = Duration::from_millis(2500);
    let (_engine, port) = LateEngine::start(delay);
    let setup = with_fake_docker("happy", port);
    let started = Instant::now();
    let stdout = setup.up_ok(&["--backend", "docker", "--timeout", "30s"]);
    assert!(
        started.elapsed() >= delay - Duration::from_millis(500),
        "an open port is not readiness: returned after {:?}",
        started.elapsed()
    );
    assert!(stdout.contains("created stream kinlocal (3 shards)"), "{stdout}");
}

#[test]
fn readiness_timeout_ends_with_the_container_log() {
    // Accepts connections (the kernel's backlog) but never answers.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let setup = with_fake_docker("happy", port);
    let out = setup.run("up", &["--backend", "docker", "--timeout", "3s"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("the kinesis container kinlocal-kinesis at http://127.0.0.1:{port} did not answer ListStreams within 3s")),
        "{err}"
    );
    assert!(err.contains("--timeout"), "{err}");
    assert!(
        err.contains("kinlocal-kinesis: starting\nkinlocal-kinesis: still warming up"),
        "{err}"
    );
    // What was started is recorded, so `down` removes it.
    assert_eq!(setup.state().expect("state").containers.len(), 2);
    let down = setup.run("down", &[]);
    assert!(down.status.success(), "{}", describe(&down));
    assert!(live_containers(&setup).is_empty());
    drop(holder);
}
