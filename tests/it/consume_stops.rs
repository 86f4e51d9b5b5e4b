//! How a run that stops while a batch keeps failing ends (issue 15): exit 4 "stopped with
//! undelivered records", the summary naming each stuck shard, `--until-idle` ending a run
//! that is stuck, and a second interrupt abandoning in-flight batches at once.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::consume::{wait_for, Rig, Running};

const FAILING: &str = "sh -c 'cat >/dev/null; exit 1'";

fn summary(stdout: &[u8]) -> Value {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "summary")
        .expect("a summary line")
}

#[test]
fn consume_stops_until_idle_ends_a_run_stuck_on_a_failing_batch_with_exit_4() {
    let rig = Rig::new();
    rig.stream("stuck", 2);
    let puts: Vec<_> = (0..3)
        .map(|i| rig.put("stuck", "same-key", format!("r{i}").as_bytes()))
        .collect();
    let started = Instant::now();
    // Infinite retries (the default, as on AWS): only --until-idle can end it.
    let out = rig
        .consume("stuck", FAILING)
        .args(["--until-idle", "1s", "--json"])
        .assert()
        .code(4)
        .get_output()
        .clone();
    assert!(started.elapsed() < Duration::from_secs(30));
    let s = summary(&out.stdout);
    assert_eq!(s["delivered"], 0);
    assert_eq!(s["undelivered"], 3);
    let stuck = s["stuck"].as_array().expect("stuck");
    assert_eq!(stuck.len(), 1, "{s}");
    assert_eq!(stuck[0]["shard_id"], puts[0].shard_id.as_str());
    assert_eq!(
        stuck[0]["first_sequence_number"],
        puts[0].sequence_number.as_str()
    );
    assert_eq!(stuck[0]["last_sequence_number"], puts[2].sequence_number.as_str());
    assert_eq!(stuck[0]["records"], 3);
    assert!(stuck[0]["attempts"].as_u64().is_some_and(|a| a >= 2), "{s}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stopped with undelivered records"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: stopped with 3 undelivered record(s)",
            puts[0].shard_id
        )),
        "{stderr}"
    );
}

#[test]
fn consume_stops_a_signal_while_a_batch_fails_exits_4() {
    let rig = Rig::new();
    rig.stream("sig", 1);
    rig.put("sig", "k", b"r0");
    let mut cmd = rig.consume_std("sig", FAILING);
    cmd.args(["--until-idle", "60s"]);
    let mut running = Running::spawn(&mut cmd, rig.path("stderr"));
    wait_for("a failed attempt", Duration::from_secs(20), || {
        running.stderr().contains(" error (")
    });
    running.signal("TERM");
    assert_eq!(
        running.wait(Duration::from_secs(20)),
        Some(4),
        "{}",
        running.stderr()
    );
    assert!(
        running.stderr().contains("stopped with 1 undelivered record(s)"),
        "{}",
        running.stderr()
    );
}

#[test]
fn consume_stops_a_second_interrupt_abandons_the_in_flight_batch_at_once() {
    let rig = Rig::new();
    rig.stream("hang", 1);
    rig.put("hang", "k", b"r0");
    let pid_file = rig.path("handler.pid");
    let mut cmd = rig.consume_std(
        "hang",
        "sh -c 'cat >/dev/null; echo $$ > \"$PID_FILE\"; exec sleep 60'",
    );
    cmd.args(["--until-idle", "60s", "--timeout", "120s"])
        .env("PID_FILE", &pid_file);
    let mut running = Running::spawn(&mut cmd, rig.path("stderr"));
    wait_for("the handler to start", Duration::from_secs(20), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let handler: u32 = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .parse()
        .expect("a pid");
    running.signal("INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        running.child_running(),
        "the first interrupt lets the batch finish"
    );
    let second = Instant::now();
    running.signal("INT");
    assert_eq!(
        running.wait(Duration::from_secs(10)),
        Some(4),
        "{}",
        running.stderr()
    );
    assert!(second.elapsed() < Duration::from_secs(5));
    assert!(
        running.stderr().contains("abandoning in-flight batches"),
        "{}",
        running.stderr()
    );
    wait_for("the handler to be killed", Duration::from_secs(5), || {
        std::fs::read_to_string(format!("/proc/{handler}/stat")).map_or(true, |s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    });
}
