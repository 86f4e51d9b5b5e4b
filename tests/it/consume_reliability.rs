//! Regression tests for consume's side of issue 13: a handler that prints hundreds of
//! megabytes, a grandchild that leaves the process group with `setsid`, and an endpoint that
//! answers a shard id made to escape `--on-failure DIR`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::consume::{fixture, wait_for, Rig, Running};

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

#[test]
fn consume_regression_a_setsid_grandchild_does_not_outlive_its_invocation() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        eprintln!("SKIP: needs /proc (Linux)");
        return;
    }
    let rig = Rig::new();
    rig.stream("reap", 1);
    rig.put("reap", "k", b"r0");
    let pid_file = rig.path("grandchild.pid");
    let mut cmd = rig.consume_std("reap", &fixture("setsid_child.sh"));
    cmd.args(["--until-idle", "60s"]).env("PID_FILE", &pid_file);
    let mut running = Running::spawn(&mut cmd, rig.path("stderr"));
    wait_for("the grandchild's pid", Duration::from_secs(20), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| !s.trim().is_empty())
    });
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid");
    // Gone while consume still runs: the invocation is over.
    wait_for("the grandchild to be killed", Duration::from_secs(10), || {
        !alive(pid)
    });
    assert!(running.child_running(), "consume is still running");
    running.signal("TERM");
    assert_eq!(
        running.wait(Duration::from_secs(20)),
        Some(0),
        "{}",
        running.stderr()
    );
}

/// Peak resident memory (`VmHWM`) of a live process, in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn consume_regression_a_handler_printing_300_mb_keeps_consume_under_64_mib() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("SKIP: needs /proc (Linux)");
        return;
    }
    let rig = Rig::new();
    rig.stream("loud", 1);
    rig.put("loud", "k", b"r0");
    let mut cmd = rig.consume_std("loud", &fixture("loud.sh"));
    cmd.args(["--timeout", "120s"]);
    let mut running = Running::spawn(&mut cmd, rig.path("stderr"));
    let mut peak = 0;
    let code = loop {
        if let Some(kib) = peak_kib(running.pid()) {
            peak = peak.max(kib);
        }
        if !running.child_running() {
            break running.wait(Duration::from_secs(1));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
    assert!(peak > 0, "VmHWM was read");
    assert!(
        peak < 64 * 1024,
        "consume peaked at {} MiB while the handler printed 300 MB",
        peak / 1024
    );
    // The log lines went through (cut to the maximum line length), the batch succeeded.
    let mut cut_lines = 0;
    let mut lines = 0;
    let f = std::fs::File::open(rig.path("stderr")).expect("stderr");
    for line in BufReader::new(f).split(b'\n') {
        let line = line.expect("line");
        lines += 1;
        if line.ends_with(b"more bytes cut]") {
            cut_lines += 1;
        }
    }
    assert!(lines > 150_000, "{lines} lines");
    assert_eq!(cut_lines, 1, "the 150 MB line is cut once");
}

/// A Kinesis endpoint in front of the engine that renames one shard: `real` becomes `fake`
/// in every answer and back in every request, as a hostile endpoint could.
struct RenamingProxy {
    url: String,
}

impl RenamingProxy {
    fn start(upstream: &str, real: &'static str, fake: &'static str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &upstream, real, fake);
                });
            }
        });
        Self { url }
    }
}

fn replace(body: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8_lossy(body).replace(from, to).into_bytes()
}

/// An HTTP/1.1 message: start line, headers (lower-case names), body.
type Message = (String, Vec<(String, String)>, Vec<u8>);

/// Reads one HTTP/1.1 message head and body (Content-Length or chunked).
fn read_message(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Message>> {
    let mut start = String::new();
    if r.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    }
    Ok(Some((start.trim_end().to_string(), headers, body)))
}

fn write_message(
    w: &mut TcpStream,
    start: &str,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let mut out = format!("{start}\r\n");
    for (k, v) in headers {
        if !matches!(k.as_str(), "content-length" | "transfer-encoding" | "connection") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str(&format!("content-length: {}\r\n", body.len()));
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    w.write_all(out.as_bytes())?;
    w.write_all(body)?;
    w.flush()
}

fn serve(conn: TcpStream, upstream: &str, real: &str, fake: &str) -> std::io::Result<()> {
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    while let Some((start, headers, body)) = read_message(&mut reader)? {
        let body = replace(&body, fake, real);
        let up = TcpStream::connect(upstream)?;
        let mut up_writer = up.try_clone()?;
        write_message(&mut up_writer, &start, &headers, &body, true)?;
        let mut up_reader = BufReader::new(up);
        let Some((status, rheaders, rbody)) = read_message(&mut up_reader)? else {
            return Ok(());
        };
        let rbody = replace(&rbody, real, fake);
        write_message(&mut writer, &status, &rheaders, &rbody, false)?;
    }
    Ok(())
}

#[test]
fn consume_regression_a_hostile_shard_id_cannot_write_outside_the_on_failure_directory() {
    let rig = Rig::new();
    rig.stream("hostile", 1);
    rig.put("hostile", "k", b"r0");
    let proxy = RenamingProxy::start(&rig.engine.endpoint, "shardId-000000000000", "../../../escaped");
    let dlq = rig.path("a/b/dlq");
    let out = rig
        .consume("hostile", "sh -c 'cat >/dev/null; exit 1'")
        .env("AWS_ENDPOINT_URL_KINESIS", &proxy.url)
        .args(["--maximum-retry-attempts", "0", "--on-failure"])
        .arg(&dlq)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("../../../escaped"),
        "the endpoint's shard id was used: {stderr}"
    );
    assert!(
        !rig.path("escaped").exists(),
        "a file was written outside --on-failure"
    );
    let files = rig.destination_files(&dlq);
    assert_eq!(files.len(), 1, "{stderr}");
    assert_eq!(files[0]["KinesisBatchInfo"]["shardId"], "../../../escaped");
}
