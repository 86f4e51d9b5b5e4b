//! The README's first command runs `examples/demo.sh`; this keeps it true with the test build.

use std::process::Command;

#[test]
fn the_demo_script_runs_the_whole_job_on_the_embedded_engine() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("examples/demo.sh"))
        .env("KINLOCAL_BIN", assert_cmd::cargo::cargo_bin("kinlocal"))
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_KINESIS")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .output()
        .expect("run demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains("1000 record(s) delivered, 0 discarded"),
        "{stderr}"
    );
    assert!(stdout.contains("health    healthy"), "{stdout}");
    assert!(stdout.contains("  behind  caught up"), "{stdout}");
    assert_eq!(
        stdout.matches("  caught up  ").count(),
        3,
        "every shard caught up:\n{stdout}"
    );
}
