//! The embedded backend for real: `up` starts a detached `kinlocal serve`, the SDK writes and
//! reads through the endpoint it recorded, `status` reports it, `down` stops exactly it —
//! twice in a row, side by side, with persistence, and with a taken port.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use crate::support::{dynamodb_client, kinesis_client, read_shard};
use crate::up_support::{describe, free_port, is_engine, stderr, wait_gone, Setup};

/// Puts `n` records on `stream`; returns their (shard, sequence number).
async fn put(k: &aws_sdk_kinesis::Client, stream: &str, n: usize) -> Vec<(String, String)> {
    let entries: Vec<_> = (0..n)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("pk-{i}"))
                .data(Blob::new(format!("record-{i}")))
                .build()
                .expect("entry")
        })
        .collect();
    let out = k
        .put_records()
        .stream_name(stream)
        .set_records(Some(entries))
        .send()
        .await
        .expect("put records");
    assert_eq!(out.failed_record_count(), Some(0));
    out.records()
        .iter()
        .map(|r| {
            (
                r.shard_id().expect("shard").to_string(),
                r.sequence_number().expect("seq").to_string(),
            )
        })
        .collect()
}

fn shard<'a>(status: &'a serde_json::Value, stream: &str, shard: &str) -> &'a serde_json::Value {
    status["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .find(|s| s["name"] == stream)
        .and_then(|s| s["shards"].as_array())
        .and_then(|sh| sh.iter().find(|x| x["shard_id"] == shard))
        .unwrap_or_else(|| panic!("{stream}/{shard} in {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_put_get_status_down_twice_in_a_row() {
    let setup = Setup::new();
    for round in 0..2 {
        let stdout = setup.up_ok(&[
            "--backend",
            "embedded",
            "--port",
            "0",
            "--stream",
            "orders:2",
            "--stream",
            "kinlocal",
        ]);
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines[0].starts_with("started embedded engine (pid "), "{stdout}");
        assert!(lines.contains(&"created stream orders (2 shards)"), "{stdout}");
        assert!(lines.contains(&"created stream kinlocal (3 shards)"), "{stdout}");
        assert!(
            !stdout.contains("lease table"),
            "up creates no table nobody uses: {stdout}"
        );
        let state = setup.state().expect("state written");
        assert_eq!(state.backend, "embedded");
        assert_eq!(state.streams, ["orders", "kinlocal"]);
        assert_eq!(
            lines.last().copied(),
            Some(format!("endpoint {}", state.kinesis_endpoint).as_str())
        );
        let pid = state.pid.expect("pid recorded");
        assert!(is_engine(pid), "the recorded pid is a running kinlocal serve");

        // The stream `up` created takes records and gives them back, in memory: round 2 starts
        // empty again.
        let k = kinesis_client(&state.kinesis_endpoint).await;
        let acked = put(&k, "orders", 10).await;
        let mut read = 0;
        for s in ["shardId-000000000000", "shardId-000000000001"] {
            read += read_shard(&k, "orders", s).await.len();
        }
        assert_eq!(read, 10, "round {round}: exactly this round's records");

        // A consumer checkpointed the first record of the shard: it is behind by the others.
        let (lease_shard, first_seq) = acked[0].clone();
        let in_shard = acked.iter().filter(|(s, _)| *s == lease_shard).count() as u64;
        let d = dynamodb_client(&state.dynamodb_endpoint).await;
        let tables = d.list_tables().send().await.expect("list tables");
        assert!(
            tables.table_names().is_empty(),
            "finding 6: no unused lease table"
        );
        crate::status::lease_table(&d, "kinlocal-leases").await;
        d.put_item()
            .table_name("kinlocal-leases")
            .item("leaseKey", AttributeValue::S(lease_shard.clone()))
            .item("streamName", AttributeValue::S("orders".into()))
            .item("leaseOwner", AttributeValue::S("worker-1".into()))
            .item("leaseCounter", AttributeValue::N("3".into()))
            .item("checkpoint", AttributeValue::S(first_seq.clone()))
            .send()
            .await
            .expect("put lease");

        let (code, status) = setup.status_json();
        assert_eq!(code, 0, "healthy: {status}");
        assert_eq!(status["healthy"], true);
        assert_eq!(status["backend"], "embedded");
        assert_eq!(status["source"], "state");
        assert_eq!(status["pid"], pid);
        let total: u64 = status["streams"]
            .as_array()
            .expect("streams")
            .iter()
            .filter(|s| s["name"] == "orders")
            .flat_map(|s| s["shards"].as_array().expect("shards").iter())
            .map(|sh| sh["records"].as_u64().expect("count"))
            .sum();
        assert_eq!(total, 10);
        assert_eq!(shard(&status, "orders", &lease_shard)["state"], "open");
        let apps = status["applications"].as_array().expect("applications");
        assert_eq!(apps.len(), 1, "{status}");
        let lease = &apps[0]["leases"][0];
        assert_eq!(apps[0]["lease_table"], "kinlocal-leases");
        assert_eq!(lease["stream"], "orders");
        assert_eq!(lease["checkpoint"], first_seq.as_str());
        assert_eq!(lease["owner"], "worker-1");
        assert_eq!(lease["lag_records"], in_shard - 1);

        let text = setup.run("status", &[]);
        assert!(text.status.success(), "{}", describe(&text));
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("health    healthy"), "{text}");
        assert!(
            text.contains("stream orders  ACTIVE  2 open / 0 closed shards"),
            "{text}"
        );

        let down = setup.run("down", &[]);
        assert!(down.status.success(), "{}", describe(&down));
        assert_eq!(
            String::from_utf8_lossy(&down.stdout).trim(),
            format!("stopped embedded engine (pid {pid})")
        );
        assert!(wait_gone(pid), "the engine is gone after down");
        assert!(setup.state().is_none(), "state forgotten");
        let (code, status) = setup.status_json();
        assert_eq!(code, 1, "not up is exit 1: {status}");
        assert_eq!(status["healthy"], false);
        // Twice is fine.
        let again = setup.run("down", &[]);
        assert!(again.status.success(), "{}", describe(&again));
        assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to stop"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_setups_side_by_side_with_their_own_state_and_ports() {
    let a = Setup::new();
    let b = Setup::new();
    let port_b = free_port();
    a.up_ok(&["--backend", "embedded", "--port", "0", "--stream", "alpha:1"]);
    b.up_ok(&[
        "--backend",
        "embedded",
        "--port",
        &port_b.to_string(),
        "--stream",
        "beta:1",
    ]);
    let (ea, eb) = (a.endpoint(), b.endpoint());
    assert_eq!(eb, format!("http://127.0.0.1:{port_b}"));
    assert_ne!(ea, eb);
    let names = |e: String| async move {
        kinesis_client(&e)
            .await
            .list_streams()
            .send()
            .await
            .expect("list")
            .stream_names()
            .to_vec()
    };
    assert_eq!(names(ea.clone()).await, ["alpha"]);
    assert_eq!(names(eb.clone()).await, ["beta"]);
    assert_eq!(a.status_json().1["kinesis_endpoint"], ea.as_str());
    assert_eq!(b.status_json().1["kinesis_endpoint"], eb.as_str());

    // Taking one down leaves the other up.
    let pid_a = a.state().and_then(|s| s.pid).expect("pid a");
    let down = a.run("down", &[]);
    assert!(down.status.success(), "{}", describe(&down));
    assert!(wait_gone(pid_a));
    let (code, _) = b.status_json();
    assert_eq!(code, 0, "b is still healthy");
    assert_eq!(names(eb).await, ["beta"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_again_reuses_the_running_engine() {
    let setup = Setup::new();
    setup.up_ok(&["--backend", "embedded", "--port", "0"]);
    let first = setup.state().expect("state");
    let again = setup.up_ok(&["--port", "0", "--stream", "more:1"]);
    assert!(
        again.starts_with(&format!(
            "already up: embedded backend at {}",
            first.kinesis_endpoint
        )),
        "{again}"
    );
    assert!(
        again.contains("stream kinlocal") || again.contains("created stream more"),
        "{again}"
    );
    let second = setup.state().expect("state");
    assert_eq!(second.pid, first.pid, "not duplicated");
    assert_eq!(second.streams, ["kinlocal", "more"]);
    // Asking for another backend while up is refused, naming the way out.
    let out = setup.run("up", &["--backend", "docker"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("kinlocal down"), "{}", describe(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_data_survives_down_and_up_unless_purged() {
    let setup = Setup::new();
    let data = setup.dir.path().join("data");
    let data_arg = data.to_str().expect("utf8");
    setup.up_ok(&[
        "--backend",
        "embedded",
        "--port",
        "0",
        "--persist",
        data_arg,
        "--stream",
        "kept:1",
    ]);
    let k = kinesis_client(&setup.endpoint()).await;
    put(&k, "kept", 3).await;
    let down = setup.run("down", &[]);
    assert!(
        String::from_utf8_lossy(&down.stdout).contains("kept data in"),
        "{}",
        describe(&down)
    );

    let stdout = setup.up_ok(&[
        "--backend",
        "embedded",
        "--port",
        "0",
        "--persist",
        data_arg,
        "--stream",
        "kept:1",
    ]);
    assert!(stdout.contains("stream kept already exists"), "{stdout}");
    let k = kinesis_client(&setup.endpoint()).await;
    assert_eq!(read_shard(&k, "kept", "shardId-000000000000").await.len(), 3);
    let down = setup.run("down", &["--purge"]);
    assert!(down.status.success(), "{}", describe(&down));
    assert!(!data.exists(), "purged");
}

#[test]
fn a_taken_port_is_a_clear_error_with_the_engine_log() {
    let setup = Setup::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let out = setup.run("up", &["--backend", "embedded", "--port", &port]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("--port"), "{err}");
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_unhealthy_once_the_engine_died() {
    let setup = Setup::new();
    setup.up_ok(&["--backend", "embedded", "--port", "0"]);
    let pid = setup.state().and_then(|s| s.pid).expect("pid");
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(wait_gone(pid));
    let (code, status) = setup.status_json();
    assert_eq!(code, 1, "{status}");
    assert!(
        status["problem"]
            .as_str()
            .expect("problem")
            .contains("ListStreams"),
        "{status}"
    );
    // `down` copes with a dead engine, and `up` replaces it.
    let down = setup.run("down", &[]);
    assert!(
        String::from_utf8_lossy(&down.stdout).contains("no longer running"),
        "{}",
        describe(&down)
    );
}

#[test]
fn print_env_is_one_evaluable_line_and_progress_goes_to_stderr() {
    let setup = Setup::new();
    let out = setup.run("up", &["--backend", "embedded", "--port", "0", "--print-env"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stderr(&out).contains("created stream kinlocal"),
        "{}",
        describe(&out)
    );
    let endpoint = setup.endpoint();
    let evaluated = std::process::Command::new("bash")
        .args([
            "-c",
            r#"eval "$1"; printf '%s|%s|%s|%s|%s' "$AWS_ENDPOINT_URL" "$AWS_REGION" "$AWS_DEFAULT_REGION" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY""#,
            "_",
            stdout.trim(),
        ])
        .output()
        .expect("bash");
    assert_eq!(
        String::from_utf8_lossy(&evaluated.stdout),
        format!("{endpoint}|us-east-1|us-east-1|kinlocal|kinlocal"),
        "finding 3: boto3 and AWS CLI v1 read AWS_DEFAULT_REGION only"
    );
}

/// Finding 10: `up` and `down` had no `--json`.
#[test]
fn up_and_down_speak_json() {
    let setup = Setup::new();
    let out = setup.run("up", &["--backend", "embedded", "--port", "0", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let endpoint = setup.endpoint();
    assert_eq!(v["kinesis_endpoint"], endpoint.as_str());
    assert_eq!(v["backend"], "embedded");
    assert_eq!(v["streams"], serde_json::json!(["kinlocal"]));
    assert_eq!(v["env"]["AWS_DEFAULT_REGION"], "us-east-1");
    assert!(
        stderr(&out).contains("created stream kinlocal"),
        "progress on stderr"
    );
    let pid = v["pid"].as_u64().expect("pid");
    let out = setup.run("down", &["--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["was_up"], true);
    assert_eq!(v["actions"][0], format!("stopped embedded engine (pid {pid})"));
    let v: serde_json::Value = serde_json::from_slice(&setup.run("down", &["--json"]).stdout).expect("json");
    assert_eq!(v["was_up"], false);
}

#[test]
fn write_profile_adds_one_profile_and_keeps_the_others() {
    let setup = Setup::new();
    let aws = setup.dir.path().join("aws");
    std::fs::create_dir_all(&aws).expect("mkdir");
    let config = "[default]\nregion = eu-central-1\n\n[profile prod]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n";
    std::fs::write(aws.join("config"), config).expect("config");
    std::fs::write(
        aws.join("credentials"),
        "[default]\naws_access_key_id = AKIAREAL\n",
    )
    .expect("credentials");
    setup.up_ok(&["--backend", "embedded", "--port", "0", "--write-profile", "kl"]);
    let endpoint = setup.endpoint();
    let written = std::fs::read_to_string(aws.join("config")).expect("config");
    assert_eq!(
        written,
        format!("{config}\n[profile kl]\nregion = us-east-1\nendpoint_url = {endpoint}\n")
    );
    let creds = std::fs::read_to_string(aws.join("credentials")).expect("credentials");
    assert!(
        creds.starts_with("[default]\naws_access_key_id = AKIAREAL\n"),
        "{creds}"
    );
    assert!(creds.contains("[kl]\naws_access_key_id = kinlocal\n"), "{creds}");
}
