//! `up`: choose a backend, start it (or find it already running), wait until it answers real
//! API calls, create the streams (no lease table: `consume` creates its own), and record the state for every other
//! subcommand.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::types::StreamStatus;

use super::containers::{self, Action, DockerOptions};
use super::ready::{self, Service};
use super::{embedded, write_state, Backend, LocalError, StreamSpec};
use crate::aws_error;
use crate::docker::{self, Docker};
use crate::endpoint::{read_state, Clients, UpState};

/// Everything `up` was asked.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Which backend.
    pub backend: Backend,
    /// Kinesis (and, embedded, DynamoDB) port on 127.0.0.1; 0 takes a free one.
    pub port: u16,
    /// DynamoDB port for the docker backend (default: `port + 1`, or 0 when `port` is 0).
    pub dynamodb_port: Option<u16>,
    /// Streams to create.
    pub streams: Vec<StreamSpec>,
    /// Persist data in this directory.
    pub persist: Option<PathBuf>,
    /// Where the state file and the engine log go.
    pub state_dir: PathBuf,
    /// Region.
    pub region: String,
    /// Docker: Kinesis image.
    pub kinesis_image: String,
    /// Docker: DynamoDB image.
    pub dynamodb_image: String,
    /// Docker: plain-HTTP port of the Kinesis image.
    pub kinesis_container_port: u16,
    /// Docker: port of the DynamoDB image.
    pub dynamodb_container_port: u16,
    /// Docker: container name prefix.
    pub name_prefix: String,
    /// How long to wait for the backend to answer.
    pub timeout: Duration,
}

/// Runs `up`; `say` receives one line per thing started or found.
pub async fn up<D: Docker + ?Sized>(
    opts: &UpOptions,
    docker: &D,
    say: &mut dyn FnMut(&str),
) -> Result<UpState, LocalError> {
    let state_dir = absolute(&opts.state_dir);
    let persist = opts.persist.as_deref().map(absolute);
    let existing = read_state(&state_dir).map_err(|e| LocalError::StateDir {
        path: crate::endpoint::state_file(&state_dir),
        detail: e.to_string(),
    })?;

    let mut state = match existing {
        Some(old) if answers(&old).await => {
            if opts.backend != Backend::Auto && opts.backend.as_str() != old.backend {
                return Err(LocalError::AlreadyUp {
                    backend: old.backend,
                    endpoint: old.kinesis_endpoint,
                    wanted: opts.backend.as_str().to_string(),
                });
            }
            say(&format!(
                "already up: {} backend at {}",
                old.backend, old.kinesis_endpoint
            ));
            old
        }
        old => {
            // A stale embedded engine that no longer answers is replaced, not left behind.
            if let Some(pid) = old.and_then(|o| o.pid) {
                if embedded::is_our_engine(pid) {
                    embedded::terminate(pid, Duration::from_secs(5))?;
                }
            }
            start_backend(opts, docker, &state_dir, persist, say).await?
        }
    };

    let clients =
        ready::local_clients(&state.kinesis_endpoint, &state.dynamodb_endpoint, &state.region).await;
    for spec in &opts.streams {
        ensure_stream(&clients, spec, opts.timeout, say).await?;
        if !state.streams.contains(&spec.name) {
            state.streams.push(spec.name.clone());
        }
    }
    write_state(&state_dir, &state)?;
    if state.kinesis_endpoint == state.dynamodb_endpoint {
        say(&format!("endpoint {}", state.kinesis_endpoint));
    } else {
        say(&format!(
            "endpoint {} (Kinesis), {} (DynamoDB)",
            state.kinesis_endpoint, state.dynamodb_endpoint
        ));
    }
    Ok(state)
}

/// The state directory and data directory are recorded for `down`, which may run elsewhere.
fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

async fn answers(state: &UpState) -> bool {
    let clients =
        ready::local_clients(&state.kinesis_endpoint, &state.dynamodb_endpoint, &state.region).await;
    ready::probe(&clients).await.is_ok()
}

async fn start_backend<D: Docker + ?Sized>(
    opts: &UpOptions,
    docker: &D,
    state_dir: &std::path::Path,
    persist: Option<PathBuf>,
    say: &mut dyn FnMut(&str),
) -> Result<UpState, LocalError> {
    let backend = match opts.backend {
        Backend::Auto => match docker::ping(docker) {
            Ok(_) => Backend::Docker,
            Err(e) => {
                say(&format!("Docker not usable, using the embedded engine: {e}"));
                Backend::Embedded
            }
        },
        Backend::Docker => {
            docker::ping(docker)?;
            Backend::Docker
        }
        Backend::Embedded => Backend::Embedded,
    };
    match backend {
        Backend::Docker => start_docker(opts, docker, state_dir, persist, say).await,
        _ => start_embedded(opts, state_dir, persist, say).await,
    }
}

async fn start_docker<D: Docker + ?Sized>(
    opts: &UpOptions,
    docker: &D,
    state_dir: &std::path::Path,
    persist: Option<PathBuf>,
    say: &mut dyn FnMut(&str),
) -> Result<UpState, LocalError> {
    let dynamodb_port = opts.dynamodb_port.unwrap_or(if opts.port == 0 {
        0
    } else {
        opts.port.saturating_add(1)
    });
    let docker_opts = DockerOptions {
        name_prefix: opts.name_prefix.clone(),
        kinesis_image: opts.kinesis_image.clone(),
        dynamodb_image: opts.dynamodb_image.clone(),
        kinesis_port: opts.port,
        dynamodb_port,
        kinesis_container_port: opts.kinesis_container_port,
        dynamodb_container_port: opts.dynamodb_container_port,
        region: opts.region.clone(),
        persist: persist.clone(),
    };
    let running = containers::start(docker, &docker_opts)?;
    for r in &running {
        let verb = match r.action {
            Action::Started => "started",
            Action::Reused => "reused running",
            Action::Restarted => "restarted",
        };
        say(&format!(
            "{verb} {} container {} ({}) on {}",
            r.role, r.name, r.image, r.endpoint
        ));
    }
    let (kinesis, dynamodb) = (&running[0], &running[1]);
    let state = UpState {
        backend: Backend::Docker.as_str().to_string(),
        kinesis_endpoint: kinesis.endpoint.clone(),
        dynamodb_endpoint: dynamodb.endpoint.clone(),
        region: opts.region.clone(),
        containers: running.iter().map(|r| r.name.clone()).collect(),
        data_dir: persist,
        ..Default::default()
    };
    // Recorded before waiting, so that `down` can remove containers that never got ready.
    write_state(state_dir, &state)?;
    let clients =
        ready::local_clients(&state.kinesis_endpoint, &state.dynamodb_endpoint, &state.region).await;
    if let Err(e) = ready::wait(&clients, opts.timeout).await {
        let r = if e.service == Service::Kinesis {
            kinesis
        } else {
            dynamodb
        };
        return Err(LocalError::NotReady {
            what: format!("the {} container {} at {}", r.role, r.name, r.endpoint),
            call: e.service.call(),
            timeout: opts.timeout,
            logs: docker::logs(docker, &r.name, 20),
            last_error: e.last_error,
        });
    }
    Ok(state)
}

async fn start_embedded(
    opts: &UpOptions,
    state_dir: &std::path::Path,
    persist: Option<PathBuf>,
    say: &mut dyn FnMut(&str),
) -> Result<UpState, LocalError> {
    let started = Instant::now();
    let engine = embedded::spawn(
        state_dir,
        opts.port,
        &opts.region,
        persist.as_deref(),
        opts.timeout,
    )?;
    say(&format!(
        "started embedded engine (pid {}) on {}, log {}",
        engine.pid,
        engine.endpoint,
        engine.log.display()
    ));
    let state = UpState {
        backend: Backend::Embedded.as_str().to_string(),
        kinesis_endpoint: engine.endpoint.clone(),
        dynamodb_endpoint: engine.endpoint.clone(),
        region: opts.region.clone(),
        pid: Some(engine.pid),
        data_dir: persist,
        ..Default::default()
    };
    write_state(state_dir, &state)?;
    let clients = ready::local_clients(&engine.endpoint, &engine.endpoint, &opts.region).await;
    let left = opts.timeout.saturating_sub(started.elapsed());
    if let Err(e) = ready::wait(&clients, left).await {
        return Err(LocalError::NotReady {
            what: format!("the embedded engine (pid {}) at {}", engine.pid, engine.endpoint),
            call: e.service.call(),
            timeout: opts.timeout,
            logs: embedded::tail(&engine.log, 20),
            last_error: e.last_error,
        });
    }
    Ok(state)
}

fn api_err(call: &str, clients: &Clients, detail: String) -> LocalError {
    LocalError::Api {
        call: call.to_string(),
        endpoint: clients.endpoint.kinesis_url.clone().unwrap_or_default(),
        detail,
    }
}

async fn ensure_stream(
    clients: &Clients,
    spec: &StreamSpec,
    timeout: Duration,
    say: &mut dyn FnMut(&str),
) -> Result<(), LocalError> {
    let created = clients
        .kinesis
        .create_stream()
        .stream_name(&spec.name)
        .shard_count(spec.shards)
        .send()
        .await;
    match created {
        Ok(_) => say(&format!("created stream {} ({} shards)", spec.name, spec.shards)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            say(&format!("stream {} already exists", spec.name));
        }
        Err(e) => {
            return Err(api_err(
                "CreateStream",
                clients,
                aws_error::describe("Kinesis", "CreateStream", &e).text,
            ))
        }
    }
    // Emulators keep a new stream CREATING for a while (kinesis-mock: 500 ms); callers of `up`
    // expect to write to it right away.
    let deadline = Instant::now() + timeout;
    loop {
        let d = clients
            .kinesis
            .describe_stream_summary()
            .stream_name(&spec.name)
            .send()
            .await
            .map_err(|e| {
                api_err(
                    "DescribeStreamSummary",
                    clients,
                    aws_error::describe("Kinesis", "DescribeStreamSummary", &e).text,
                )
            })?;
        let status = d.stream_description_summary().map(|s| s.stream_status().clone());
        if status == Some(StreamStatus::Active) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(api_err(
                "DescribeStreamSummary",
                clients,
                format!(
                    "stream {} still {} after {}",
                    spec.name,
                    status.as_ref().map_or("missing", StreamStatus::as_str),
                    humantime::format_duration(timeout)
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
