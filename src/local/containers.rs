//! The docker backend: a Kinesis container and a DynamoDB container, named `<prefix>-kinesis` /
//! `<prefix>-dynamodb`, labelled as kinlocal's, published on 127.0.0.1 only; reused when
//! already running, restarted when stopped, created otherwise.

use std::path::PathBuf;

use crate::docker::{self, ContainerSpec, ContainerState, Docker, DockerError};

/// What the docker backend is asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerOptions {
    /// Container name prefix (`kinlocal` → `kinlocal-kinesis`, `kinlocal-dynamodb`).
    pub name_prefix: String,
    /// Kinesis emulator image.
    pub kinesis_image: String,
    /// DynamoDB image.
    pub dynamodb_image: String,
    /// Host port of Kinesis (0: Docker chooses).
    pub kinesis_port: u16,
    /// Host port of DynamoDB (0: Docker chooses).
    pub dynamodb_port: u16,
    /// Plain-HTTP port of the Kinesis image.
    pub kinesis_container_port: u16,
    /// Port of the DynamoDB image.
    pub dynamodb_container_port: u16,
    /// Region for the Kinesis emulator's ARNs.
    pub region: String,
    /// Host directory for persisted data, when asked for.
    pub persist: Option<PathBuf>,
}

/// What happened to one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `docker run`.
    Started,
    /// It was already running.
    Reused,
    /// It existed stopped: `docker start`.
    Restarted,
}

/// One container, up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// `kinesis` or `dynamodb`.
    pub role: &'static str,
    /// Container name.
    pub name: String,
    /// Image.
    pub image: String,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// What was done.
    pub action: Action,
}

/// Where DynamoDB Local keeps its files inside the container when persisting.
const DYNAMODB_DATA: &str = "/home/dynamodblocal/data";

/// The two container specs.
pub(crate) fn specs(opts: &DockerOptions) -> [ContainerSpec; 2] {
    let mut kinesis = ContainerSpec {
        name: format!("{}-kinesis", opts.name_prefix),
        image: opts.kinesis_image.clone(),
        host_port: opts.kinesis_port,
        container_port: opts.kinesis_container_port,
        env: vec![("AWS_REGION".into(), opts.region.clone())],
        volumes: vec![],
        command: vec![],
        role: "kinesis".into(),
    };
    let mut dynamodb = ContainerSpec {
        name: format!("{}-dynamodb", opts.name_prefix),
        image: opts.dynamodb_image.clone(),
        host_port: opts.dynamodb_port,
        container_port: opts.dynamodb_container_port,
        env: vec![],
        volumes: vec![],
        command: vec![],
        role: "dynamodb".into(),
    };
    // DynamoDB Local keeps one database per access key and region unless -sharedDb; the
    // command is only DynamoDB Local's, other images keep their own.
    let is_dynamodb_local = opts.dynamodb_image.starts_with("amazon/dynamodb-local");
    match &opts.persist {
        Some(dir) => {
            kinesis.env.push(("SHOULD_PERSIST_DATA".into(), "true".into()));
            kinesis.env.push(("PERSIST_PATH".into(), "/data".into()));
            kinesis.volumes.push((dir.join("kinesis"), "/data".into()));
            dynamodb
                .volumes
                .push((dir.join("dynamodb"), DYNAMODB_DATA.into()));
            if is_dynamodb_local {
                dynamodb.command = ["-jar", "DynamoDBLocal.jar", "-sharedDb", "-dbPath", DYNAMODB_DATA]
                    .map(String::from)
                    .to_vec();
            }
        }
        None if is_dynamodb_local => {
            dynamodb.command = ["-jar", "DynamoDBLocal.jar", "-sharedDb", "-inMemory"]
                .map(String::from)
                .to_vec();
        }
        None => {}
    }
    [kinesis, dynamodb]
}

/// Brings one container up: reuse, restart or run.
fn ensure<D: Docker + ?Sized>(docker: &D, spec: &ContainerSpec) -> Result<(Action, u16), DockerError> {
    let action = match docker::find(docker, &spec.name)? {
        Some(ContainerState::Running) => Action::Reused,
        Some(ContainerState::Stopped) => {
            docker::start(docker, &spec.name)?;
            Action::Restarted
        }
        None => {
            for (host, _) in &spec.volumes {
                // Created by us, not by the daemon as root.
                std::fs::create_dir_all(host).map_err(|e| DockerError::Failed {
                    command: format!("mkdir {}", host.display()),
                    detail: e.to_string(),
                })?;
            }
            docker::run(docker, spec)?;
            Action::Started
        }
    };
    // Asked every time: a reused container may be published on another port than asked now.
    let port = docker::host_port(docker, &spec.name, spec.container_port)?;
    Ok((action, port))
}

/// Brings both containers up (the caller has checked that the daemon answers). When the
/// second fails, the first is removed again if this call created it, so a failed `up` leaves
/// nothing half-started.
pub fn start<D: Docker + ?Sized>(docker: &D, opts: &DockerOptions) -> Result<Vec<Running>, DockerError> {
    let mut running: Vec<Running> = Vec::new();
    for spec in specs(opts) {
        match ensure(docker, &spec) {
            Ok((action, port)) => running.push(Running {
                role: if spec.role == "kinesis" {
                    "kinesis"
                } else {
                    "dynamodb"
                },
                name: spec.name.clone(),
                image: spec.image.clone(),
                endpoint: format!("http://127.0.0.1:{port}"),
                action,
            }),
            Err(e) => {
                for r in running.iter().filter(|r| r.action == Action::Started) {
                    let _ = docker::remove(docker, &r.name);
                }
                return Err(e);
            }
        }
    }
    Ok(running)
}

/// Removes a container if it carries our label; `Ok(false)` when there is none (already gone).
pub(crate) fn remove_ours<D: Docker + ?Sized>(docker: &D, name: &str) -> Result<bool, DockerError> {
    if docker::find(docker, name)?.is_none() {
        return Ok(false);
    }
    docker::remove(docker, name)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::fake::FakeDocker;

    fn opts() -> DockerOptions {
        DockerOptions {
            name_prefix: "kinlocal".into(),
            kinesis_image: super::super::KINESIS_IMAGE.into(),
            dynamodb_image: super::super::DYNAMODB_IMAGE.into(),
            kinesis_port: 4566,
            dynamodb_port: 4567,
            kinesis_container_port: 4568,
            dynamodb_container_port: 8000,
            region: "us-east-1".into(),
            persist: None,
        }
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

    #[test]
    fn fresh_start_runs_both_containers_with_exact_arguments() {
        let d = FakeDocker::default()
            .ok(&["ps"], "")
            .ok(&["run"], "abc\n")
            .ok(&["port", "kinlocal-kinesis"], "127.0.0.1:4566\n")
            .ok(&["port", "kinlocal-dynamodb"], "127.0.0.1:4567\n");
        let running = start(&d, &opts()).expect("starts");
        assert_eq!(running.len(), 2);
        assert_eq!(running[0].endpoint, "http://127.0.0.1:4566");
        assert_eq!(running[1].endpoint, "http://127.0.0.1:4567");
        assert!(running.iter().all(|r| r.action == Action::Started));
        let expected = vec![
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
        ];
        assert_eq!(d.calls(), expected);
    }

    #[test]
    fn running_containers_are_reused_and_stopped_ones_restarted() {
        let d = FakeDocker::default()
            .ok(
                &["ps", "--all", "--filter", "name=^/?ci7-kinesis$"],
                "ci7-kinesis\trunning\n",
            )
            .ok(
                &["ps", "--all", "--filter", "name=^/?ci7-dynamodb$"],
                "ci7-dynamodb\texited\n",
            )
            .ok(&["start"], "ci7-dynamodb\n")
            .ok(&["port", "ci7-kinesis"], "127.0.0.1:40001\n")
            .ok(&["port", "ci7-dynamodb"], "127.0.0.1:40002\n");
        let mut o = opts();
        o.name_prefix = "ci7".into();
        let running = start(&d, &o).expect("starts");
        assert_eq!(running[0].action, Action::Reused);
        assert_eq!(running[0].endpoint, "http://127.0.0.1:40001");
        assert_eq!(running[1].action, Action::Restarted);
        assert!(
            !d.calls().iter().any(|c| c[0] == "run"),
            "nothing duplicated: {:?}",
            d.calls()
        );
        assert!(d.calls().contains(&v(&["start", "ci7-dynamodb"])));
    }

    #[test]
    fn a_failed_second_container_removes_the_first() {
        let d = FakeDocker::default()
            .ok(&["ps"], "")
            .ok(&["run", "--detach", "--name", "kinlocal-kinesis"], "abc\n")
            .ok(&["port", "kinlocal-kinesis"], "127.0.0.1:4566\n")
            .fail(
                &["run", "--detach", "--name", "kinlocal-dynamodb"],
                "docker: Error response from daemon: driver failed programming external connectivity on endpoint kinlocal-dynamodb: Bind for 127.0.0.1:4567 failed: port is already allocated.\n",
            )
            .ok(&["rm"], "kinlocal-kinesis\n");
        let err = start(&d, &opts()).expect_err("port taken");
        assert!(
            matches!(err, DockerError::PortAllocated { ref port, .. } if port == "4567"),
            "{err:?}"
        );
        assert_eq!(
            d.calls().last(),
            Some(&v(&["rm", "--force", "--volumes", "kinlocal-kinesis"]))
        );
    }

    #[test]
    fn persistence_mounts_host_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut o = opts();
        o.persist = Some(dir.path().to_path_buf());
        let [k, d] = specs(&o);
        assert!(k.env.contains(&("SHOULD_PERSIST_DATA".into(), "true".into())));
        assert_eq!(k.volumes, vec![(dir.path().join("kinesis"), "/data".to_string())]);
        assert_eq!(d.command[d.command.len() - 2..], v(&["-dbPath", DYNAMODB_DATA]));
    }

    #[test]
    fn other_dynamodb_images_keep_their_command() {
        let mut o = opts();
        o.dynamodb_image = "localstack/localstack:4".into();
        let [_, d] = specs(&o);
        assert!(d.command.is_empty());
    }

    #[test]
    fn remove_ours_leaves_foreign_containers_alone() {
        let d = FakeDocker::default().ok(&["ps"], "");
        assert!(!remove_ours(&d, "kinlocal-kinesis").expect("ok"));
        assert_eq!(d.calls().len(), 1, "no rm for a container without our label");
    }
}
