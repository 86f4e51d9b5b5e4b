//! The event source mapping's settings, validated once with messages that name the flag to
//! change: ranges of spec §2.1, and combinations that contradict each other.

use std::path::PathBuf;
use std::time::Duration;

use super::checkpoint::Checkpoint;
use super::policy::RetryPolicy;
use super::poll::PollPolicy;

/// Where a shard with no checkpoint starts (`StartingPosition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// The oldest untrimmed record.
    TrimHorizon,
    /// Just after the newest record when reading starts.
    Latest,
    /// The first record that arrived at or after this Unix time in milliseconds.
    AtTimestamp(i64),
}

impl StartingPosition {
    /// The checkpoint a new lease starting here gets.
    pub fn checkpoint(self) -> Checkpoint {
        match self {
            Self::TrimHorizon => Checkpoint::TrimHorizon,
            Self::Latest => Checkpoint::Latest,
            Self::AtTimestamp(_) => Checkpoint::AtTimestamp,
        }
    }
}

/// Where discarded batches go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationSpec {
    /// One JSON file per discarded batch: the on-failure record plus the event as `payload`,
    /// as Lambda writes to S3.
    Directory(PathBuf),
    /// The on-failure record as one Kinesis record on another stream (like SQS/SNS: no payload).
    Stream(String),
}

/// The function: what runs, and what it is called in ARNs and its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionConfig {
    /// The command line (program and arguments), already split.
    pub command: Vec<String>,
    /// `FunctionName`.
    pub name: String,
    /// Execution role ARN (`invokeIdentityArn`).
    pub role_arn: String,
    /// Region in ARNs and `AWS_REGION`.
    pub region: String,
    /// Account id in ARNs.
    pub account_id: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub memory_size: u32,
    /// Function timeout; the process group is killed after it.
    pub timeout: Duration,
}

impl FunctionConfig {
    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.name
        )
    }
}

/// Everything `consume` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsmConfig {
    /// The stream to consume.
    pub stream_name: String,
    /// `StartingPosition` (+ timestamp).
    pub starting_position: StartingPosition,
    /// `BatchSize`.
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds`.
    pub maximum_batching_window: Duration,
    /// How each shard's reads are paced.
    pub poll: PollPolicy,
    /// `TumblingWindowInSeconds` (`None`: off).
    pub tumbling_window: Option<Duration>,
    /// `ParallelizationFactor`: lanes per shard, each with one batch in flight.
    pub parallelization_factor: usize,
    /// Retries, record age, bisect, partial responses.
    pub policy: RetryPolicy,
    /// `DestinationConfig.OnFailure`.
    pub on_failure: Option<DestinationSpec>,
    /// The function.
    pub function: FunctionConfig,
    /// Lease table name (KCL application name).
    pub app_name: String,
    /// Forget checkpoints and start again from the starting position.
    pub reset: bool,
    /// Exit once every shard is drained and nothing arrived for this long.
    pub until_idle: Option<Duration>,
    /// How often the records behind each held shard's checkpoint are counted for the live
    /// line and `--json` progress (`None`: never; nobody would see it).
    pub lag_probe: Option<Duration>,
    /// A lease whose counter did not change for this long is expired and may be taken;
    /// held leases are renewed every third of it.
    pub failover_time: Duration,
    /// Stop after this many records were delivered.
    pub max_records: Option<u64>,
    /// One JSON object per batch on stdout.
    pub json: bool,
}

/// A setting the user must change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConfigError {
    /// A value outside its range.
    #[error("{flag} {value} is out of range: {range}")]
    OutOfRange {
        /// The flag.
        flag: &'static str,
        /// What was given.
        value: String,
        /// The allowed range.
        range: &'static str,
    },
    /// The handler cannot be run.
    #[error("{0}")]
    Handler(String),
}

/// Validates the numeric ranges Lambda enforces (spec §2.1).
pub(crate) fn check_ranges(
    batch_size: usize,
    window: Duration,
    timeout: Duration,
    record_age: Option<Duration>,
    record_age_unchecked: bool,
    memory_size: u32,
) -> Result<(), ConfigError> {
    if !(1..=10_000).contains(&batch_size) {
        return Err(ConfigError::OutOfRange {
            flag: "--batch-size",
            value: batch_size.to_string(),
            range: "1 to 10000",
        });
    }
    if window > Duration::from_secs(300) {
        return Err(ConfigError::OutOfRange {
            flag: "--maximum-batching-window",
            value: humantime::format_duration(window).to_string(),
            range: "0s to 300s",
        });
    }
    if timeout.is_zero() || timeout > Duration::from_secs(900) {
        return Err(ConfigError::OutOfRange {
            flag: "--timeout",
            value: humantime::format_duration(timeout).to_string(),
            range: "more than 0s, up to 900s",
        });
    }
    if let Some(age) = record_age {
        let min = if record_age_unchecked {
            Duration::ZERO
        } else {
            Duration::from_secs(60)
        };
        if age < min || age > Duration::from_secs(604_800) {
            return Err(ConfigError::OutOfRange {
                flag: "--maximum-record-age",
                value: humantime::format_duration(age).to_string(),
                range: "-1 (infinite) or 60s to 604800s (7 days)",
            });
        }
    }
    if !(128..=10_240).contains(&memory_size) {
        return Err(ConfigError::OutOfRange {
            flag: "--memory-size",
            value: memory_size.to_string(),
            range: "128 to 10240 (MB)",
        });
    }
    Ok(())
}

/// What to do about a handler file without the execute bit: its interpreter when the file
/// says which (a `#!` line or a known extension), `chmod +x` always.
fn not_executable_hint(path: &std::path::Path, program: &str) -> String {
    let shebang = std::fs::read(path)
        .ok()
        .filter(|b| b.starts_with(b"#!"))
        .and_then(|b| {
            let first = b.split(|&c| c == b'\n').next().unwrap_or_default().to_vec();
            String::from_utf8(first).ok()
        });
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let interpreter = match ext {
        "py" => Some("python3"),
        "js" | "mjs" | "cjs" => Some("node"),
        "sh" => Some("sh"),
        "bash" => Some("bash"),
        "rb" => Some("ruby"),
        "pl" => Some("perl"),
        "php" => Some("php"),
        _ => None,
    };
    match (shebang, interpreter) {
        (Some(_), _) => format!("it starts with #!, so `chmod +x {program}` is all it needs"),
        (None, Some(i)) => {
            format!("`chmod +x {program}` (and start it with a #! line), or --exec '{i} {program}'")
        }
        (None, None) => format!(
            "`chmod +x {program}` if it is a program; a script needs a #! line or its interpreter in --exec"
        ),
    }
}

/// Checks that `program` can be executed: a path must be an executable file, a bare name
/// must be found on `PATH`.
pub(crate) fn check_executable(program: &str) -> Result<PathBuf, ConfigError> {
    use std::os::unix::fs::PermissionsExt as _;
    let is_exec = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        if !p.exists() {
            return Err(ConfigError::Handler(format!(
                "handler {program} does not exist (check --exec)"
            )));
        }
        if !is_exec(&p) {
            return Err(ConfigError::Handler(format!(
                "handler {program} is not an executable file: {}",
                not_executable_hint(&p, program)
            )));
        }
        return Ok(p);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| is_exec(p))
        .ok_or_else(|| {
            ConfigError::Handler(format!(
                "handler {program} was not found on PATH (check --exec, or give a path like ./{program})"
            ))
        })
}

/// Splits `--exec` with shell quoting rules (never run through a shell) and appends the
/// arguments given after `--`.
pub(crate) fn command_line(exec: &str, extra: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut argv =
        shell_words::split(exec).map_err(|e| ConfigError::Handler(format!("--exec {exec:?}: {e}")))?;
    if argv.is_empty() {
        return Err(ConfigError::Handler(
            "--exec is empty: give the handler to run".into(),
        ));
    }
    argv.extend(extra.iter().cloned());
    Ok(argv)
}

/// A name usable as a Lambda function name: letters, digits, `-` and `_`.
pub(crate) fn function_name_from(program: &str) -> String {
    let stem = std::path::Path::new(program)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if clean.is_empty() {
        "kinlocal-function".into()
    } else {
        clean
    }
}

/// The file that names the function: the first word of the command line that is an existing
/// file (`handler.py` in `python3 handler.py`), else the program.
pub(crate) fn script_of(command: &[String]) -> &str {
    command
        .iter()
        .find(|w| std::path::Path::new(w.as_str()).is_file())
        .or_else(|| command.first())
        .map_or("", String::as_str)
}

/// The default worker id: host name and process id, as the issue asks, so that `status` tells
/// where each consumer runs.
pub(crate) fn default_worker_id(host: &str, pid: u32) -> String {
    let host = host.trim();
    let host = if host.is_empty() { "localhost" } else { host };
    format!("{host}:{pid}")
}

/// The default lease table name: the KCL application name derived from stream and function.
pub(crate) fn default_app_name(stream: &str, function: &str) -> String {
    let raw = format!("kinlocal-{stream}-{function}");
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(255)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_lambda() {
        let ok = |b, w, t, a, m| check_ranges(b, w, t, a, false, m);
        let s = Duration::from_secs;
        assert!(ok(100, s(0), s(3), None, 128).is_ok());
        assert!(ok(0, s(0), s(3), None, 128).is_err());
        assert!(ok(10_001, s(0), s(3), None, 128).is_err());
        assert!(ok(100, s(301), s(3), None, 128).is_err());
        assert!(ok(100, s(0), s(901), None, 128).is_err());
        assert!(ok(100, s(0), s(0), None, 128).is_err());
        assert!(
            ok(100, s(0), s(3), Some(s(59)), 128).is_err(),
            "0-59 s are rejected"
        );
        assert!(ok(100, s(0), s(3), Some(s(60)), 128).is_ok());
        assert!(ok(100, s(0), s(3), Some(s(604_801)), 128).is_err());
        assert!(
            check_ranges(100, s(0), s(3), Some(s(1)), true, 128).is_ok(),
            "test-only escape"
        );
    }

    #[test]
    fn exec_is_split_like_a_shell_without_one() {
        let argv = command_line("python3 'my handler.py' --x", &["a b".into()]).expect("splits");
        assert_eq!(argv, vec!["python3", "my handler.py", "--x", "a b"]);
        assert!(command_line("", &[]).is_err());
        assert!(command_line("'unterminated", &[]).is_err());
    }

    #[test]
    fn missing_or_non_executable_handlers_are_refused() {
        assert!(check_executable("sh").is_ok());
        assert!(check_executable("definitely-not-a-command-kinlocal").is_err());
        assert!(check_executable("./no/such/handler").is_err());
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("h.sh");
        std::fs::write(&f, "#!/bin/sh\n").expect("write");
        let err = check_executable(&f.to_string_lossy()).expect_err("not executable");
        assert!(err.to_string().contains("not an executable"));
    }

    #[test]
    fn names_are_derived_sensibly() {
        assert_eq!(function_name_from("./handlers/my lambda.py"), "my-lambda");
        assert_eq!(
            default_app_name("orders", "my-lambda"),
            "kinlocal-orders-my-lambda"
        );
    }

    #[test]
    fn worker_ids_default_to_host_and_pid() {
        assert_eq!(default_worker_id("box-1\n", 42), "box-1:42");
        assert_eq!(default_worker_id("", 7), "localhost:7");
    }
}
