//! The `docker` CLI behind a small trait ([`Docker`]) so tests can substitute a recorded fake:
//! argument vectors (never a shell), the container operations `up`/`down` need, and the
//! classification of docker's stderr into errors that say what the user should change.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The label every container started by kinlocal carries, so `down` and the reuse check never
/// touch a container someone else named alike.
pub(crate) const LABEL: &str = "dev.kinlocal.managed=true";

/// What one `docker` invocation returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Whether docker exited 0.
    pub success: bool,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Runs the docker CLI with an argument vector. The only seam between kinlocal and Docker.
pub trait Docker {
    /// Runs `docker ARGS...`; `Err` only when docker could not be started at all.
    fn exec(&self, args: &[String]) -> Result<Output, DockerError>;
}

/// The real docker CLI: the `docker` found on PATH (or `KINLOCAL_DOCKER`).
#[derive(Debug, Clone)]
pub(crate) struct DockerCli {
    program: PathBuf,
}

impl Default for DockerCli {
    fn default() -> Self {
        let program = std::env::var_os("KINLOCAL_DOCKER")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("docker"), PathBuf::from);
        Self { program }
    }
}

impl Docker for DockerCli {
    fn exec(&self, args: &[String]) -> Result<Output, DockerError> {
        let out = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => DockerError::NotInstalled,
                _ => DockerError::Failed {
                    command: command_line(args),
                    detail: e.to_string(),
                },
            })?;
        Ok(Output {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// A docker failure, classified so the message names what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DockerError {
    /// No `docker` executable.
    #[error("docker is not installed (no `docker` on PATH): install Docker, or use --backend embedded")]
    NotInstalled,
    /// The client cannot reach a daemon.
    #[error(
        "the Docker daemon is not running ({0}): start Docker (e.g. `sudo systemctl start docker` \
         or Docker Desktop), or use --backend embedded"
    )]
    DaemonNotRunning(String),
    /// The socket exists but this user may not use it.
    #[error(
        "permission denied on the Docker socket ({0}): add your user to the `docker` group \
         (`sudo usermod -aG docker $USER`, then log in again), or use --backend embedded"
    )]
    PermissionDenied(String),
    /// The host port is taken.
    #[error(
        "port {port} on 127.0.0.1 is already allocated ({detail}): choose other ports with --port \
         (and --dynamodb-port), or stop what uses it"
    )]
    PortAllocated {
        /// The port docker named, or `?`.
        port: String,
        /// docker's words.
        detail: String,
    },
    /// The image cannot be found or pulled.
    #[error(
        "image {image} is not available ({detail}): check its name and tag, run `docker login` if \
         it is private, or choose another with --kinesis-image / --dynamodb-image"
    )]
    ImageNotAvailable {
        /// The image asked for.
        image: String,
        /// docker's words.
        detail: String,
    },
    /// A container of that name exists but was not started by kinlocal.
    #[error(
        "a container named {name} exists but was not started by kinlocal: remove it \
         (`docker rm -f {name}`) or choose another --name-prefix"
    )]
    NameConflict {
        /// The container name.
        name: String,
    },
    /// Anything else docker refused.
    #[error("`{command}` failed: {detail}")]
    Failed {
        /// The command line, for the user to retry by hand.
        command: String,
        /// docker's stderr.
        detail: String,
    },
}

fn command_line(args: &[String]) -> String {
    let mut s = String::from("docker");
    for a in args {
        s.push(' ');
        s.push_str(a);
    }
    s
}

/// The last non-empty line of docker's stderr, without docker's `docker: ` / `Error response
/// from daemon: ` prefixes, to quote in a message.
fn gist(stderr: &str) -> String {
    let line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with("See '") && !l.starts_with("Run '"))
        .unwrap_or("")
        .trim();
    line.trim_start_matches("docker: ")
        .trim_start_matches("Error response from daemon: ")
        .trim_end_matches('.')
        .to_string()
}

/// Turns a failed invocation into the most specific error its stderr allows. `image` and
/// `name` are what the command was about, when it was a `run`.
pub(crate) fn classify(
    args: &[String],
    stderr: &str,
    image: Option<&str>,
    name: Option<&str>,
) -> DockerError {
    let lower = stderr.to_ascii_lowercase();
    let detail = gist(stderr);
    if lower.contains("permission denied") && lower.contains("docker") && lower.contains("sock") {
        return DockerError::PermissionDenied(detail);
    }
    if lower.contains("cannot connect to the docker daemon")
        || lower.contains("is the docker daemon running")
        || lower.contains("error during connect")
    {
        return DockerError::DaemonNotRunning(detail);
    }
    if lower.contains("port is already allocated") || lower.contains("address already in use") {
        return DockerError::PortAllocated {
            port: bound_port(stderr).unwrap_or_else(|| "?".to_string()),
            detail,
        };
    }
    if lower.contains("is already in use by container") {
        return DockerError::NameConflict {
            name: name.unwrap_or("?").to_string(),
        };
    }
    if lower.contains("unable to find image")
        || lower.contains("pull access denied")
        || lower.contains("manifest unknown")
        || lower.contains("no such image")
        || (lower.contains("manifest for") && lower.contains("not found"))
        || lower.contains("invalid reference format")
    {
        return DockerError::ImageNotAvailable {
            image: image.unwrap_or("?").to_string(),
            detail,
        };
    }
    DockerError::Failed {
        command: command_line(args),
        detail: if detail.is_empty() {
            "no output".to_string()
        } else {
            detail
        },
    }
}

/// `Bind for 127.0.0.1:4566 failed` / `listen tcp4 127.0.0.1:4566: bind: address already in
/// use` → `4566`.
fn bound_port(stderr: &str) -> Option<String> {
    let at = stderr.find("127.0.0.1:").or_else(|| stderr.find("0.0.0.0:"))?;
    let rest = &stderr[at..];
    let digits: String = rest
        .split_once(':')?
        .1
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

/// The state of a container as `docker ps` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// Running: reuse it.
    Running,
    /// Created, exited, paused…: start it again.
    Stopped,
}

/// What to start: one container, published on 127.0.0.1 only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Container name (`kinlocal-kinesis`).
    pub name: String,
    /// Image with its tag.
    pub image: String,
    /// Port on 127.0.0.1; 0 lets Docker choose.
    pub host_port: u16,
    /// The port the service listens on inside the container.
    pub container_port: u16,
    /// `-e KEY=VALUE`.
    pub env: Vec<(String, String)>,
    /// `-v HOST:CONTAINER` bind mounts.
    pub volumes: Vec<(PathBuf, String)>,
    /// Arguments after the image (the container's command).
    pub command: Vec<String>,
    /// The role label (`kinesis` / `dynamodb`), for people reading `docker ps`.
    pub role: String,
}

fn s(v: &str) -> String {
    v.to_string()
}

fn run_checked<D: Docker + ?Sized>(
    docker: &D,
    args: Vec<String>,
    image: Option<&str>,
    name: Option<&str>,
) -> Result<String, DockerError> {
    let out = docker.exec(&args)?;
    if out.success {
        Ok(out.stdout)
    } else {
        Err(classify(&args, &out.stderr, image, name))
    }
}

/// Whether a daemon answers: `docker version --format {{.Server.Version}}`.
pub fn ping<D: Docker + ?Sized>(docker: &D) -> Result<String, DockerError> {
    let args = vec![s("version"), s("--format"), s("{{.Server.Version}}")];
    let out = docker.exec(&args)?;
    let version = out.stdout.trim().to_string();
    if out.success && !version.is_empty() {
        Ok(version)
    } else {
        // `docker version` prints the client part and fails when the daemon does not answer.
        Err(classify(&args, &out.stderr, None, None))
    }
}

/// Finds a container of that exact name carrying kinlocal's label.
pub fn find<D: Docker + ?Sized>(docker: &D, name: &str) -> Result<Option<ContainerState>, DockerError> {
    let args = vec![
        s("ps"),
        s("--all"),
        s("--filter"),
        format!("name=^/?{name}$"),
        s("--filter"),
        format!("label={LABEL}"),
        s("--format"),
        s("{{.Names}}\t{{.State}}"),
    ];
    let stdout = run_checked(docker, args, None, Some(name))?;
    Ok(stdout.lines().find_map(|line| {
        let (n, state) = line.split_once('\t')?;
        (n.trim_start_matches('/') == name).then(|| {
            if state.trim() == "running" {
                ContainerState::Running
            } else {
                ContainerState::Stopped
            }
        })
    }))
}

/// The argument vector of `docker run` for a spec.
pub(crate) fn run_args(spec: &ContainerSpec) -> Vec<String> {
    let mut args = vec![
        s("run"),
        s("--detach"),
        s("--name"),
        spec.name.clone(),
        s("--label"),
        s(LABEL),
        s("--label"),
        format!("dev.kinlocal.role={}", spec.role),
        s("--publish"),
        if spec.host_port == 0 {
            format!("127.0.0.1::{}", spec.container_port)
        } else {
            format!("127.0.0.1:{}:{}", spec.host_port, spec.container_port)
        },
    ];
    for (k, v) in &spec.env {
        args.push(s("--env"));
        args.push(format!("{k}={v}"));
    }
    for (host, inside) in &spec.volumes {
        args.push(s("--volume"));
        args.push(format!("{}:{inside}", host.display()));
    }
    args.push(spec.image.clone());
    args.extend(spec.command.iter().cloned());
    args
}

/// `docker run --detach …`.
pub fn run<D: Docker + ?Sized>(docker: &D, spec: &ContainerSpec) -> Result<(), DockerError> {
    run_checked(docker, run_args(spec), Some(&spec.image), Some(&spec.name)).map(drop)
}

/// `docker start NAME` (a stopped container of ours, kept with its data).
pub fn start<D: Docker + ?Sized>(docker: &D, name: &str) -> Result<(), DockerError> {
    run_checked(docker, vec![s("start"), s(name)], None, Some(name)).map(drop)
}

/// The host port a container port is published on: `docker port NAME 4568/tcp`.
pub fn host_port<D: Docker + ?Sized>(
    docker: &D,
    name: &str,
    container_port: u16,
) -> Result<u16, DockerError> {
    let args = vec![s("port"), s(name), format!("{container_port}/tcp")];
    let stdout = run_checked(docker, args.clone(), None, Some(name))?;
    // `127.0.0.1:49153` (possibly followed by `[::1]:49153`): the port after the last colon.
    stdout
        .lines()
        .find_map(|l| l.trim().rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
        .ok_or_else(|| DockerError::Failed {
            command: command_line(&args),
            detail: format!("no published port in {:?}", stdout.trim()),
        })
}

/// The last `lines` lines of a container's log (stdout and stderr), for error messages.
pub fn logs<D: Docker + ?Sized>(docker: &D, name: &str, lines: usize) -> String {
    let args = vec![s("logs"), s("--tail"), lines.to_string(), s(name)];
    match docker.exec(&args) {
        Ok(out) => {
            let mut text = out.stdout;
            text.push_str(&out.stderr);
            text.trim_end().to_string()
        }
        Err(e) => format!("(no logs: {e})"),
    }
}

/// `docker rm --force --volumes NAME`.
pub fn remove<D: Docker + ?Sized>(docker: &D, name: &str) -> Result<(), DockerError> {
    run_checked(
        docker,
        vec![s("rm"), s("--force"), s("--volumes"), s(name)],
        None,
        Some(name),
    )
    .map(drop)
}

#[cfg(test)]
pub(crate) mod fake {
    //! A recorded fake: answers from a script of (argv prefix → output) and records every argv.

    use std::cell::RefCell;

    use super::{Docker, DockerError, Output};

    /// Replies in order of registration; the first rule whose prefix matches the argv answers.
    #[derive(Default)]
    pub(crate) struct FakeDocker {
        rules: Vec<(Vec<String>, Result<Output, DockerError>)>,
        /// Every argument vector received.
        pub calls: RefCell<Vec<Vec<String>>>,
    }

    impl FakeDocker {
        pub fn on(mut self, prefix: &[&str], reply: Result<Output, DockerError>) -> Self {
            self.rules
                .push((prefix.iter().map(|s| s.to_string()).collect(), reply));
            self
        }

        pub fn ok(self, prefix: &[&str], stdout: &str) -> Self {
            self.on(
                prefix,
                Ok(Output {
                    success: true,
                    stdout: stdout.to_string(),
                    stderr: String::new(),
                }),
            )
        }

        pub fn fail(self, prefix: &[&str], stderr: &str) -> Self {
            self.on(
                prefix,
                Ok(Output {
                    success: false,
                    stdout: String::new(),
                    stderr: stderr.to_string(),
                }),
            )
        }

        pub fn calls(&self) -> Vec<Vec<String>> {
            self.calls.borrow().clone()
        }
    }

    impl Docker for FakeDocker {
        fn exec(&self, args: &[String]) -> Result<Output, DockerError> {
            self.calls.borrow_mut().push(args.to_vec());
            self.rules
                .iter()
                .find(|(prefix, _)| args.starts_with(prefix))
                .map(|(_, reply)| reply.clone())
                .unwrap_or_else(|| panic!("unexpected docker call: {args:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeDocker;
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    fn spec() -> ContainerSpec {
        ContainerSpec {
            name: "kinlocal-kinesis".into(),
            image: "ghcr.io/etspaceman/kinesis-mock:0.5.2".into(),
            host_port: 4566,
            container_port: 4568,
            env: vec![("AWS_REGION".into(), "us-east-1".into())],
            volumes: vec![(PathBuf::from("/data/k"), "/data".into())],
            command: vec![],
            role: "kinesis".into(),
        }
    }

    #[test]
    fn run_publishes_on_loopback_only_with_label_name_env_and_volume() {
        assert_eq!(
            run_args(&spec()),
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
                "--volume",
                "/data/k:/data",
                "ghcr.io/etspaceman/kinesis-mock:0.5.2",
            ])
        );
        let mut any_port = spec();
        any_port.host_port = 0;
        assert!(run_args(&any_port).contains(&"127.0.0.1::4568".to_string()));
    }

    #[test]
    fn ping_asks_for_the_server_version() {
        let d = FakeDocker::default().ok(&["version"], "28.2.2\n");
        assert_eq!(ping(&d).expect("answers"), "28.2.2");
        assert_eq!(
            d.calls(),
            vec![v(&["version", "--format", "{{.Server.Version}}"])]
        );
    }

    #[test]
    fn ping_classifies_a_missing_daemon_and_a_forbidden_socket() {
        let d = FakeDocker::default().fail(
            &["version"],
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
        );
        assert!(matches!(ping(&d), Err(DockerError::DaemonNotRunning(_))));
        let d = FakeDocker::default().fail(
            &["version"],
            "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.47/version\": dial unix /var/run/docker.sock: connect: permission denied\n",
        );
        let err = ping(&d).expect_err("forbidden");
        assert!(matches!(err, DockerError::PermissionDenied(_)));
        assert!(err.to_string().contains("docker` group"));
    }

    #[test]
    fn find_filters_by_exact_name_and_label() {
        let d = FakeDocker::default().ok(&["ps"], "kinlocal-kinesis\trunning\n");
        assert_eq!(
            find(&d, "kinlocal-kinesis").expect("ps"),
            Some(ContainerState::Running)
        );
        assert_eq!(
            d.calls()[0],
            v(&[
                "ps",
                "--all",
                "--filter",
                "name=^/?kinlocal-kinesis$",
                "--filter",
                "label=dev.kinlocal.managed=true",
                "--format",
                "{{.Names}}\t{{.State}}",
            ])
        );
        let d = FakeDocker::default().ok(&["ps"], "kinlocal-kinesis\texited\n");
        assert_eq!(
            find(&d, "kinlocal-kinesis").expect("ps"),
            Some(ContainerState::Stopped)
        );
        let d = FakeDocker::default().ok(&["ps"], "");
        assert_eq!(find(&d, "kinlocal-kinesis").expect("ps"), None);
    }

    #[test]
    fn run_errors_are_classified() {
        type Check = fn(&DockerError) -> bool;
        let cases: &[(&str, Check)] = &[
            (
                "docker: Error response from daemon: driver failed programming external connectivity on endpoint kinlocal-kinesis (abc): Bind for 127.0.0.1:4566 failed: port is already allocated.\n",
                |e| matches!(e, DockerError::PortAllocated { port, .. } if port == "4566"),
            ),
            (
                "Unable to find image 'nope/nope:1' locally\ndocker: Error response from daemon: pull access denied for nope/nope, repository does not exist or may require 'docker login'.\nSee 'docker run --help'.\n",
                |e| matches!(e, DockerError::ImageNotAvailable { image, detail } if image.contains("kinesis-mock") && detail.contains("pull access denied")),
            ),
            (
                "Unable to find image 'ghcr.io/etspaceman/kinesis-mock:9.9.9' locally\ndocker: Error response from daemon: manifest unknown.\n",
                |e| matches!(e, DockerError::ImageNotAvailable { .. }),
            ),
            (
                "docker: Error response from daemon: Conflict. The container name \"/kinlocal-kinesis\" is already in use by container \"abc\". You have to remove (or rename) that container to be able to reuse that name.\n",
                |e| matches!(e, DockerError::NameConflict { name } if name == "kinlocal-kinesis"),
            ),
            ("docker: something else entirely\n", |e| {
                matches!(e, DockerError::Failed { detail, .. } if detail == "something else entirely")
            }),
        ];
        for (stderr, check) in cases {
            let d = FakeDocker::default().fail(&["run"], stderr);
            let err = run(&d, &spec()).expect_err("fails");
            assert!(check(&err), "{stderr} → {err:?}");
        }
    }

    #[test]
    fn host_port_reads_the_first_published_address() {
        let d = FakeDocker::default().ok(&["port"], "127.0.0.1:49153\n[::1]:49153\n");
        assert_eq!(host_port(&d, "kinlocal-kinesis", 4568).expect("port"), 49153);
        assert_eq!(d.calls()[0], v(&["port", "kinlocal-kinesis", "4568/tcp"]));
        let d = FakeDocker::default().ok(&["port"], "");
        assert!(host_port(&d, "x", 1).is_err());
    }

    #[test]
    fn remove_forces_and_drops_anonymous_volumes() {
        let d = FakeDocker::default().ok(&["rm"], "kinlocal-kinesis\n");
        remove(&d, "kinlocal-kinesis").expect("rm");
        assert_eq!(
            d.calls()[0],
            v(&["rm", "--force", "--volumes", "kinlocal-kinesis"])
        );
    }

    #[test]
    fn a_missing_binary_is_not_installed() {
        let d = DockerCli {
            program: PathBuf::from("/nonexistent/docker"),
        };
        assert_eq!(ping(&d), Err(DockerError::NotInstalled));
    }
}
