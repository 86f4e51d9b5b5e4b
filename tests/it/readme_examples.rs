//! Every example block of the README is run (issue 15): the newcomer sections as written
//! (finding 8), the CI recipe failing when the consumer fails (finding 2: the old
//! `…; kinlocal down` recipe returned `down`'s status), and each command section (streams,
//! produce, consume, filters, lanes, several consumers, deployment files, Runtime API, hot
//! reload, invoke, tail, event, the AWS CLI lines, the flag synopses). Each test takes the code block from under
//! its heading, so editing the README edits the test. Not run here: the top block's
//! `cargo build --release` and `cargo test` (its `examples/demo.sh` is run by `demo.rs`), and
//! `cargo install --path .` (an ignored test: a release build of its own).

use std::path::{Path, PathBuf};
use std::process::Output;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README")
}

/// The first fenced block of `lang` after the line `heading`.
fn block(heading: &str, lang: &str) -> String {
    let text = readme();
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no heading {heading:?}"));
    let rest = &text[start..];
    let fence = format!("```{lang}\n");
    let open = rest
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{lang} block under {heading}"))
        + fence.len();
    let close = rest[open..].find("```").expect("closing fence");
    rest[open..open + close].to_string()
}

/// Runs `script` with bash in `dir`, `kinlocal` (the test build) on PATH, an isolated state
/// directory and HOME, the embedded backend on a free port.
fn run_script(dir: &Path, script: &str) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("kinlocal");
    let bin_dir = bin.parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // `timeout` (not --foreground) runs the script in its own process group and signals the
    // whole group, so a backgrounded command of a failing example cannot keep the output pipe
    // open and hang the test binary.
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["-k", "10", "300", "bash", "-c"])
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", dir.join("home"))
        .env("KINLOCAL_STATE_DIR", dir.join("state"))
        .env("KINLOCAL_BACKEND", "embedded")
        .env("KINLOCAL_PORT", "0");
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_KINESIS",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_PROFILE",
        "AWS_REGION",
        "XDG_STATE_HOME",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("bash runs");
    // Whatever happened, leave no engine behind.
    let _ = std::process::Command::new(&bin)
        .args(["down", "--state-dir"])
        .arg(dir.join("state"))
        .output();
    out
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn workdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().to_path_buf();
    std::fs::create_dir_all(p.join("home")).expect("home");
    (t, p)
}

fn write_handler(dir: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("handler.py");
    std::fs::write(&p, text).expect("write handler");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn the_handler_to_copy_is_the_example_handler() {
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/handler.py"))
        .expect("examples/handler.py");
    assert_eq!(block("## Your first handler", "python"), example);
}

#[test]
fn the_first_handler_walkthrough_runs_as_written() {
    let (_t, dir) = workdir();
    write_handler(&dir, &block("## Your first handler", "python"));
    let script = format!("set -euo pipefail\n{}", block("## Your first handler", "sh"));
    let out = run_script(&dir, &script);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("  behind  caught up"), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("100 record(s) delivered"),
        "{}",
        describe(&out)
    );
}

#[test]
fn the_ci_recipe_passes_with_a_working_handler_and_stops_the_endpoint() {
    let (_t, dir) = workdir();
    write_handler(&dir, &block("## Your first handler", "python"));
    let out = run_script(&dir, &block("## In CI", "sh"));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped embedded engine"),
        "the EXIT trap ran `kinlocal down`: {}",
        describe(&out)
    );
}

/// Finding 2: with the old recipe a missing handler (exit 2) still passed the job.
#[test]
fn the_ci_recipe_fails_when_the_handler_is_missing_and_still_stops_the_endpoint() {
    let (_t, dir) = workdir();
    let out = run_script(&dir, &block("## In CI", "sh"));
    assert_eq!(
        out.status.code(),
        Some(2),
        "consume's status is the job's: {}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped embedded engine"),
        "the EXIT trap ran `kinlocal down`: {}",
        describe(&out)
    );
}

#[test]
fn the_completion_install_lines_run_as_written() {
    let (_t, dir) = workdir();
    let script = format!("set -euo pipefail\n{}", block("## Shell completions", "sh"));
    let out = run_script(&dir, &script);
    assert!(out.status.success(), "{}", describe(&out));
    let home = dir.join("home");
    for file in [
        ".local/share/bash-completion/completions/kinlocal",
        ".zfunc/_kinlocal",
        ".config/fish/completions/kinlocal.fish",
        ".config/elvish/lib/kinlocal.elv",
        ".config/powershell/Microsoft.PowerShell_profile.ps1",
    ] {
        let len = std::fs::metadata(home.join(file)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 100, "{file} was written");
    }
}

/// Finding 2 with a handler that fails every batch: the job fails (exit 4, records stuck
/// behind the failing batch) instead of passing with `down`'s status.
#[test]
fn the_ci_recipe_fails_when_the_handler_fails() {
    let (_t, dir) = workdir();
    write_handler(&dir, "#!/bin/sh\ncat >/dev/null\necho 'boom' >&2\nexit 1\n");
    let out = run_script(&dir, &block("## In CI", "sh"));
    assert_eq!(
        out.status.code(),
        Some(4),
        "consume's status is the job's: {}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped embedded engine"),
        "the EXIT trap ran `kinlocal down`: {}",
        describe(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Every other example block of the README, run through the real binary against the embedded
// engine that `kinlocal up` starts on a free port (`KINLOCAL_BACKEND=embedded`,
// `KINLOCAL_PORT=0`). What a block cannot do as written in a test is rewritten visibly here:
// commands that run until Ctrl-C get SIGINT after a few seconds (and must then exit 0), long
// durations are shortened, and `…` placeholders get real values. Blocks that need something a
// test machine may lack say so and are skipped with a SKIP line.

/// How long an example that runs until Ctrl-C runs before it gets SIGINT.
// `--foreground`: SIGINT once, to kinlocal only (by default timeout also signals its process
// group, and a second SIGINT means "quit now" to kinlocal).
const UNTIL_CTRL_C: &str = "timeout --foreground --preserve-status -s INT 4";

/// Prefixes the lines of `block` that run until Ctrl-C with [`UNTIL_CTRL_C`].
fn interrupting(block: &str, runs_until_ctrl_c: impl Fn(&str) -> bool) -> String {
    block
        .lines()
        .map(|l| {
            if runs_until_ctrl_c(l) {
                format!("{UNTIL_CTRL_C} {l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `consume` line without a stopping flag runs until Ctrl-C.
fn consume_until_ctrl_c(line: &str) -> bool {
    line.starts_with("kinlocal consume") && !line.contains("--until-idle") && !line.contains("--dry-run")
}

/// Runs `body` after `kinlocal up` (stopped on exit), with `set -x` so a failure shows the
/// command; `setup` prepares the files and streams the examples take for granted.
fn run_example(dir: &Path, setup: &str, body: &str) -> Output {
    let script = format!(
        "set -euo pipefail\nkinlocal up >/dev/null\ntrap 'kinlocal down >/dev/null' EXIT\n{setup}\nset -x\n{body}\n"
    );
    run_script(dir, &script)
}

fn assert_ran(out: &Output) -> String {
    assert!(out.status.success(), "{}", describe(out));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("dir");
    }
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The example handler under the names the README's examples use for "your function".
fn handlers(dir: &Path) {
    let handler = block("## Your first handler", "python");
    for name in ["handler.py", "my-lambda", "handler", "h"] {
        write_executable(&dir.join(name), &handler);
    }
}

#[test]
fn the_stream_examples_run_as_written() {
    let (_t, dir) = workdir();
    let out = run_example(
        &dir,
        "",
        &block("## create-stream, delete-stream, list-streams", "sh"),
    );
    let stdout = assert_ran(&out);
    assert!(
        stdout.contains("clicks"),
        "list-streams shows the streams: {stdout}"
    );
    assert!(
        stdout.contains(r#"{"created":true,"stream":{"name":"orders""#),
        "orders was deleted, so the last line creates it again: {stdout}"
    );
}

#[test]
fn the_produce_examples_run_as_written() {
    let (_t, dir) = workdir();
    // The files the examples read: the README's own template and record line, and a gzip of
    // two data lines.
    std::fs::write(dir.join("event.json"), block("### Templates", "json")).expect("template");
    std::fs::write(dir.join("captured.ndjson"), block("### Replay", "json")).expect("record line");
    let setup = "kinlocal create-stream orders --shards 2 >/dev/null\n\
                 printf '{\"a\":1}\\n{\"a\":2}\\n' | gzip > events.ndjson.gz";
    // One minute of --rate is shortened to two seconds.
    let body = block("## produce", "sh").replace("--duration 1m", "--duration 2s");
    let out = run_example(&dir, setup, &body);
    let stdout = assert_ran(&out);
    assert!(
        stdout.contains(r#""records":1000"#),
        "the --json summary: {stdout}"
    );
    for sent in [
        "sent 10000 records",
        "sent 100 records",
        "sent 1 records",
        "sent 2 records",
    ] {
        assert!(stdout.contains(sent), "{sent}: {}", describe(&out));
    }
}

#[test]
fn the_tail_and_event_examples_run_as_written() {
    let (_t, dir) = workdir();
    handlers(&dir);
    // A stream with records on both shards, some of them orders of user-7; the checkpoint the
    // `--after-sequence-number 4959…` example starts after is the first record of shard 1.
    let setup = "kinlocal create-stream orders --shards 2 >/dev/null\n\
                 kinlocal produce --stream orders --count 20 >/dev/null 2>&1\n\
                 for i in 1 2 3; do echo \"{\\\"type\\\":\\\"order\\\",\\\"n\\\":$i}\"; done | \
                 kinlocal produce --stream orders --from - -k user-7 >/dev/null 2>&1\n\
                 SEQ=$(kinlocal tail orders --starting-position trim-horizon --shard 1 --json --count 1 | \
                 python3 -c 'import json,sys; print(json.load(sys.stdin)[\"SequenceNumber\"])')";
    let tail = interrupting(&block("## tail", "sh").replace("4959…", "\"$SEQ\""), |l| {
        l.contains(" -f")
    });
    let out = run_example(
        &dir,
        setup,
        &format!("{tail}\nwc -l captured.ndjson\n{}", block("## event", "sh")),
    );
    let stdout = assert_ran(&out);
    assert!(
        stdout.contains("23 captured.ndjson"),
        "tail --json captured every record: {stdout}"
    );
    assert!(dir.join("batch.json").exists());
    let batch: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("batch.json")).expect("batch.json"))
            .expect("event JSON");
    assert_eq!(batch["Records"].as_array().map(Vec::len), Some(100));
    assert!(
        stdout.contains("isFinalInvokeForWindow"),
        "the windowed event: {stdout}"
    );
    assert!(
        stdout.contains(r#""batchItemFailures": []"#),
        "handler.py answered: {stdout}"
    );
}

#[test]
fn the_consume_examples_run_as_written() {
    let (_t, dir) = workdir();
    handlers(&dir);
    std::fs::write(
        dir.join("filters.json"),
        r#"{"Filters": [{"Pattern": "{\"data\": {\"type\": [\"order\"]}}"}]}"#,
    )
    .expect("filters.json");
    let setup = "kinlocal create-stream orders --shards 2 >/dev/null\n\
                 kinlocal produce --stream orders --count 50 >/dev/null 2>&1\n\
                 kinlocal produce --count 50 >/dev/null 2>&1";
    let mut body = String::new();
    for heading in [
        "## consume",
        "### Parallelization (ParallelizationFactor)",
        "### Several consumers",
    ] {
        body.push_str(&interrupting(&block(heading, "sh"), consume_until_ctrl_c));
        body.push('\n');
    }
    // The two workers of "Several consumers" run in the background: each must end well.
    body.push_str("for job in $(jobs -p); do wait \"$job\"; done\n");
    // The filter examples name no stream: that is only unambiguous with one stream, `up`'s.
    body.push_str("kinlocal delete-stream orders\n");
    body.push_str(&interrupting(
        &block("### Filtering (FilterCriteria)", "sh"),
        consume_until_ctrl_c,
    ));
    let out = run_example(&dir, setup, &body);
    assert_ran(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("record(s) delivered"), "{}", describe(&out));
}

#[test]
fn the_deployment_file_examples_run_as_written() {
    let (_t, dir) = workdir();
    handlers(&dir);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates");
    std::fs::copy(fixtures.join("sam.yaml"), dir.join("template.yaml")).expect("sam");
    std::fs::copy(fixtures.join("serverless.yml"), dir.join("serverless.yml")).expect("serverless");
    std::fs::create_dir_all(dir.join("infra")).expect("infra");
    std::fs::copy(fixtures.join("main.tf"), dir.join("infra/main.tf")).expect("terraform");
    // The fixtures' stream; their on-failure destinations are SQS queues, which kinlocal writes
    // beside the run (it has no SQS).
    let setup = "kinlocal create-stream orders --shards 2 >/dev/null\n\
                 kinlocal produce --stream orders --count 20 >/dev/null 2>&1";
    let body = interrupting(
        &block("### Settings from your deployment files (`--template`)", "sh"),
        consume_until_ctrl_c,
    );
    let out = run_example(&dir, setup, &body);
    let stdout = assert_ran(&out);
    assert!(
        stdout.contains("OrdersProcessor") || stdout.contains("orders-processor"),
        "the --dry-run print: {stdout}"
    );
}

#[test]
fn the_invoke_examples_run_as_written() {
    let (_t, dir) = workdir();
    handlers(&dir);
    functions(&dir);
    std::fs::write(dir.join("records.ndjson"), "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n").expect("records");
    let setup = format!("kinlocal event --record '{{\"id\":1}}' > event.json\n{PYTHON_312}");
    // `kinlocal event …`: any event command; this one has two records.
    let body =
        block("## invoke", "sh").replace("kinlocal event …", "kinlocal event --record '{}' --record '{}'");
    if !node_installed() {
        println!("SKIP the_invoke_examples_run_as_written: node is not installed (the nodejs22.x example needs it)");
        assert!(std::env::var("CI").is_err(), ".ci/run installs Node 20 on CI");
        return;
    }
    let out = run_example(&dir, &setup, &body);
    let stdout = assert_ran(&out);
    for n in [r#""n": 2"#, r#""n": 3"#] {
        assert!(
            stdout.contains(n) || stdout.contains(&n.replace(' ', "")),
            "{n}: {stdout}"
        );
    }
}

/// `--runtime python3.12` runs `python3.12` when it is on PATH: where that is a broken
/// interpreter (a pyenv shim without that version), the examples get python3 by that name.
const PYTHON_312: &str = "if ! python3.12 -c '' 2>/dev/null; then\n\
    mkdir -p shim && printf '#!/bin/sh\\nexec python3 \"$@\"\\n' > shim/python3.12\n\
    chmod +x shim/python3.12 && export PATH=\"$PWD/shim:$PATH\"\n\
  fi";

/// The functions the Runtime API and invoke examples name: `src/app.handler` and
/// `app.handler` (Python), `index.handler` (Node), and a `./bootstrap` that speaks the Runtime
/// API as a custom runtime's would.
fn functions(dir: &Path) {
    let python = "def handler(event, context):\n    return {\"batchItemFailures\": [], \"n\": len(event[\"Records\"])}\n";
    std::fs::create_dir_all(dir.join("src")).expect("src");
    std::fs::write(dir.join("src/app.py"), python).expect("src/app.py");
    std::fs::write(dir.join("app.py"), python).expect("app.py");
    std::fs::write(
        dir.join("index.mjs"),
        "export const handler = async (event) => ({ batchItemFailures: [], n: event.Records.length });\n",
    )
    .expect("index.mjs");
    std::fs::create_dir_all(dir.join("layer/nodejs/node_modules")).expect("layer");
    write_executable(
        &dir.join("bootstrap"),
        r#"#!/usr/bin/env python3
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(r)
    body = json.dumps({"batchItemFailures": [], "n": len(event["Records"])}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body, method="POST")).read()
"#,
    );
}

fn node_installed() -> bool {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A Python that can `import awslambdaric` (the venv .ci/run makes, or
/// `KINLOCAL_AWSLAMBDARIC_PYTHON`).
fn awslambdaric_python() -> Option<PathBuf> {
    crate::runtime_api_support::awslambdaric_python()
}

/// The Runtime API examples. Stand-ins, said here: `./target/lambda/orders/bootstrap` (a
/// `cargo lambda build` output) is the Python `./bootstrap` above, which speaks the same API;
/// the `--runtime-api-only` example is followed by what its user does: start the function with
/// the `AWS_LAMBDA_RUNTIME_API` it prints, for each shard.
#[test]
fn the_runtime_api_examples_run_as_written() {
    let Some(ric) = awslambdaric_python() else {
        println!("SKIP the_runtime_api_examples_run_as_written: awslambdaric is not installed (.ci/run installs it)");
        assert!(
            std::env::var("CI").is_err(),
            ".ci/run installs awslambdaric on CI"
        );
        return;
    };
    if !node_installed() {
        println!("SKIP the_runtime_api_examples_run_as_written: node is not installed");
        assert!(std::env::var("CI").is_err(), ".ci/run installs Node 20 on CI");
        return;
    }
    let (_t, dir) = workdir();
    functions(&dir);
    let target = dir.join("target/lambda/orders");
    std::fs::create_dir_all(&target).expect("target");
    std::fs::copy(dir.join("bootstrap"), target.join("bootstrap")).expect("stand-in bootstrap");
    let ric_bin = ric.parent().expect("venv bin").display().to_string();
    let setup = format!(
        "kinlocal create-stream orders --shards 2 >/dev/null\n\
         kinlocal produce --stream orders --count 40 >/dev/null 2>&1\n\
         {PYTHON_312}"
    );
    let mut body = String::new();
    for line in block("## Running your real function (Runtime API)", "sh").lines() {
        if line.contains("--runtime-api-only") {
            body.push_str(&format!(
                "{line} 2> rapi.log &\n\
                 KL=$!\n\
                 for _ in $(seq 150); do [ \"$(grep -c AWS_LAMBDA_RUNTIME_API= rapi.log)\" -ge 2 ] && break; sleep 0.1; done\n\
                 for api in $(sed -n 's/^ *AWS_LAMBDA_RUNTIME_API=//p' rapi.log); do AWS_LAMBDA_RUNTIME_API=$api ./bootstrap & done\n\
                 for _ in $(seq 150); do grep -q 'record(s) in' rapi.log 2>/dev/null && break; sleep 0.1; done\n\
                 sleep 2; kill -INT $KL; wait $KL\n\
                 cat rapi.log >&2\n"
            ));
        } else if line.contains("awslambdaric") {
            // `python3` is the one with awslambdaric installed.
            body.push_str(&format!("PATH=\"{ric_bin}:$PATH\" {UNTIL_CTRL_C} {line}\n"));
        } else {
            body.push_str(&interrupting(line, consume_until_ctrl_c));
            body.push('\n');
        }
    }
    let out = run_example(&dir, &setup, &body);
    assert_ran(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("done: 40 record(s) delivered").count(),
        5,
        "each of the five examples delivered every record: {}",
        describe(&out)
    );
}

/// `--watch`: the example runs as written (stdout and stderr to files) on a one-shard `orders`
/// while the script plays the developer: records are handled by v1, `src/app.py` is saved as
/// v2, kinlocal says it reloads, later records are handled by v2, Ctrl-C. Every wait is
/// bounded (15 s) and a failure kills the consumer, so a broken reload fails the test instead
/// of hanging it.
#[test]
fn the_hot_reload_example_runs_as_written() {
    let (_t, dir) = workdir();
    let handled = dir.join("handled.txt");
    let source = |version: &str| {
        format!(
            "def handler(event, context):\n    with open({:?}, \"a\") as out:\n        for _ in event[\"Records\"]:\n            out.write(\"{version}\\n\")\n    print(\"handled by {version}\")\n    return {{\"batchItemFailures\": []}}\n",
            handled.display().to_string()
        )
    };
    std::fs::create_dir_all(dir.join("src")).expect("src");
    std::fs::write(dir.join("src/app.py"), source("v1")).expect("v1");
    std::fs::write(dir.join("app_v2.py"), source("v2")).expect("v2");
    let example = block("### Hot reload (`--watch`)", "sh");
    let example = example.trim();
    assert!(
        example.starts_with("kinlocal consume") && !example.contains('\n'),
        "one consume line: {example}"
    );
    let setup = format!("kinlocal create-stream orders --shards 1 >/dev/null\n{PYTHON_312}");
    // `until_logged WHAT PATTERN FILE`: waits up to 15 s for PATTERN in FILE, else fails.
    let body = format!(
        r#"until_logged() {{
  for _ in $(seq 150); do grep -q "$2" "$3" 2>/dev/null && return 0; sleep 0.1; done
  echo "gave up waiting for $1" >&2; return 1
}}
{example} >watch.out 2>watch.log &
KL=$!
# On any exit: a consumer still running (a failed wait) gets Ctrl-C twice (which stops its
# functions' process groups), then SIGKILL; its log goes to stderr for the assertions.
stop() {{
  if [ -n "$KL" ]; then
    kill -INT $KL 2>/dev/null || true; sleep 0.5; kill -INT $KL 2>/dev/null || true
    sleep 1; kill -9 $KL 2>/dev/null || true
  fi
  cat watch.log >&2 || true
  kinlocal down >/dev/null || true
}}
trap stop EXIT
until_logged 'the first INIT' 'INIT shardId-' watch.log
kinlocal produce --stream orders --count 5 >/dev/null 2>&1
until_logged 'the first records, on v1' '^v1' handled.txt
cp app_v2.py src/app.py
until_logged 'the reload line' 'changed: the function reloads before its next batch' watch.log
kinlocal produce --stream orders --count 5 >/dev/null 2>&1
until_logged 'the later records, on v2' '^v2' handled.txt
for _ in $(seq 50); do [ "$(grep -c '^v' handled.txt)" -ge 10 ] && break; sleep 0.1; done
kill -INT $KL
for _ in $(seq 150); do kill -0 $KL 2>/dev/null || break; sleep 0.1; done
if kill -0 $KL 2>/dev/null; then echo 'consume did not stop on Ctrl-C' >&2; exit 1; fi
wait $KL
KL=
"#,
    );
    let out = run_example(&dir, &setup, &body);
    assert_ran(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("done: 10 record(s) delivered"),
        "every record was delivered: {}",
        describe(&out)
    );
    let inits = stderr
        .lines()
        .filter(|l| l.starts_with("kinlocal: INIT shardId-"))
        .count();
    assert_eq!(
        inits,
        2,
        "one INIT at the start, one for the reload: {}",
        describe(&out)
    );
    let versions = std::fs::read_to_string(&handled).expect("handled.txt");
    assert_eq!(
        versions.lines().collect::<Vec<_>>(),
        [vec!["v1"; 5], vec!["v2"; 5]].concat(),
        "five records on v1, then five on v2 after the save: {}",
        describe(&out)
    );
}

/// The synopsis blocks list flags: each must be one the command takes.
#[test]
fn the_synopsis_blocks_name_real_flags() {
    for (heading, commands) in [
        ("## `kinlocal serve`: the embedded engine", vec!["serve"]),
        ("## up, down, status", vec!["up", "down", "status"]),
    ] {
        let text = block(heading, "sh");
        for command in commands {
            let help = kinlocal_help(command);
            // The lines from `kinlocal COMMAND` to the next `kinlocal` line.
            let mut section = String::new();
            let mut inside = false;
            for line in text.lines() {
                if line.starts_with("kinlocal ") {
                    inside = line.starts_with(&format!("kinlocal {command} "));
                }
                if inside {
                    section.push_str(line);
                    section.push('\n');
                }
            }
            assert!(!section.is_empty(), "{heading}: no `kinlocal {command}` line");
            let flags: Vec<&str> = section
                .split(|c: char| c.is_whitespace() || "[]|".contains(c))
                .filter(|w| w.starts_with("--"))
                .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
                .collect();
            assert!(flags.len() >= 3, "{command}: {flags:?}");
            for flag in flags {
                assert!(
                    help.contains(&format!("{flag} "))
                        || help.contains(&format!("{flag}\n"))
                        || help.contains(&format!("{flag},"))
                        || help.contains(&format!("{flag}=")),
                    "`kinlocal {command}` takes no {flag}"
                );
            }
        }
    }
}

fn kinlocal_help(command: &str) -> String {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args([command, "--help"])
        .output()
        .expect("help");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `aws --endpoint-url … kinesis list-streams`: run when the AWS CLI is installed, against the
/// engine's real port instead of 4566.
#[test]
fn the_aws_cli_examples_run_against_the_engine() {
    if std::process::Command::new("aws")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIP the_aws_cli_examples_run_against_the_engine: the AWS CLI is not installed");
        return;
    }
    let (_t, dir) = workdir();
    let body = block("## `kinlocal serve`: the embedded engine", "sh");
    let aws_lines: String = readme()
        .lines()
        .filter(|l| l.starts_with("aws --endpoint-url http://127.0.0.1:4566 "))
        .map(|l| l.replace("http://127.0.0.1:4566", "\"$AWS_ENDPOINT_URL\""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!body.is_empty() && aws_lines.lines().count() == 2, "{aws_lines}");
    let setup = "eval \"$(kinlocal up --print-env)\"\n\
                 export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x\n\
                 kinlocal create-stream shown >/dev/null";
    let out = run_example(&dir, setup, &aws_lines);
    let stdout = assert_ran(&out);
    assert!(stdout.contains("shown"), "{stdout}");
    assert!(stdout.contains("TableNames"), "{stdout}");
}

/// `cargo install --path .` builds the whole project again in release mode: minutes on a
/// small machine, so it is run on request (`cargo test --test it -- --ignored install`).
#[test]
#[ignore = "builds kinlocal in release mode into a temporary root (about 15 min on 2 cores)"]
fn the_install_lines_run_as_written() {
    let (_t, dir) = workdir();
    let root = dir.join("cargo-root");
    let install = block("## Install", "sh").replace(
        "cargo install --path .",
        &format!(
            "cargo install --path {} --root {} --locked",
            env!("CARGO_MANIFEST_DIR"),
            root.display()
        ),
    );
    let script = format!(
        "set -euo pipefail\nexport PATH={}:\"$PATH\"\n{install}",
        root.join("bin").display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash");
    let stdout = assert_ran(&out);
    assert!(stdout.starts_with("kinlocal "), "{stdout}");
}
