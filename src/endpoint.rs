//! Where do we talk to: `--endpoint-url` > environment > the state of `kinlocal up` > an error
//! telling the user to run `kinlocal up`; real AWS only with `--aws`. Builds the SDK clients.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the user chose about the endpoint (the `--endpoint-url`/`--aws`/`--profile`/`--region`/
/// `--state-dir` flags, as plain values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// An explicit endpoint URL for Kinesis and DynamoDB.
    pub endpoint_url: Option<String>,
    /// Real AWS (standard credential chain).
    pub aws: bool,
    /// The AWS profile.
    pub profile: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// Where `kinlocal up` keeps its state.
    pub state_dir: Option<PathBuf>,
}

/// Why no endpoint could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Nothing says where the endpoint is, and real AWS was not asked for.
    #[error(
        "no endpoint: run `kinlocal up` first, or pass --endpoint-url URL (or set AWS_ENDPOINT_URL); \
         use --aws to talk to real AWS"
    )]
    NoEndpoint,
    /// The endpoint URL is not an http(s) URL.
    #[error("invalid endpoint URL '{0}': expected http://HOST:PORT or https://HOST:PORT")]
    BadUrl(String),
    /// The state file exists but cannot be read.
    #[error("cannot read kinlocal state {path}: {detail}")]
    BadState {
        /// The state file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
}

/// Where the endpoint came from (shown by `status`, useful in error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `--endpoint-url`.
    Flag,
    /// `AWS_ENDPOINT_URL*`.
    Environment,
    /// The state file of `kinlocal up`.
    State,
    /// Real AWS (`--aws`).
    Aws,
}

/// The resolved endpoints: `None` URLs mean "AWS's own endpoints".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Kinesis endpoint URL.
    pub kinesis_url: Option<String>,
    /// DynamoDB endpoint URL.
    pub dynamodb_url: Option<String>,
    /// Region.
    pub region: String,
    /// Where this came from.
    pub source: Source,
}

impl Endpoint {
    /// Whether this is a local endpoint (dummy credentials are supplied).
    pub(crate) fn is_local(&self) -> bool {
        self.source != Source::Aws
    }
}

/// What `kinlocal up` records so that every other subcommand finds the endpoint with no flags.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UpState {
    /// `embedded` or `docker`.
    pub backend: String,
    /// Kinesis endpoint URL.
    pub kinesis_endpoint: String,
    /// DynamoDB endpoint URL.
    pub dynamodb_endpoint: String,
    /// Region the engine writes into ARNs.
    pub region: String,
    /// Pid of the embedded engine, when that backend runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Containers started, when the docker backend runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    /// Streams created by `up`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<String>,
    /// Data directory (persistence), when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// The lease table created by `up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_table: Option<String>,
}

/// The state directory: `--state-dir` / `KINLOCAL_STATE_DIR`, else `$XDG_STATE_HOME/kinlocal`,
/// else `~/.local/state/kinlocal`.
pub fn state_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("kinlocal");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local").join("state").join("kinlocal")
}

/// The state file inside a state directory.
pub(crate) fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Reads the state of `kinlocal up`, `Ok(None)` when there is none.
pub fn read_state(dir: &Path) -> Result<Option<UpState>, EndpointError> {
    let path = state_file(dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| EndpointError::BadState {
                path,
                detail: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EndpointError::BadState {
            path,
            detail: e.to_string(),
        }),
    }
}

/// Applies the precedence rules to flags, an environment lookup and the state directory.
pub(crate) fn resolve_with(
    args: &Selection,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Endpoint, EndpointError> {
    let env_nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let env_region = env_nonempty("AWS_REGION").or_else(|| env_nonempty("AWS_DEFAULT_REGION"));
    let default_region = || {
        args.region
            .clone()
            .or_else(|| env_region.clone())
            .unwrap_or_else(|| "us-east-1".to_string())
    };
    if args.aws {
        return Ok(Endpoint {
            kinesis_url: None,
            dynamodb_url: None,
            region: default_region(),
            source: Source::Aws,
        });
    }
    if let Some(url) = &args.endpoint_url {
        let url = check_url(url)?;
        return Ok(Endpoint {
            kinesis_url: Some(url.clone()),
            dynamodb_url: Some(url),
            region: default_region(),
            source: Source::Flag,
        });
    }
    let general = env_nonempty("AWS_ENDPOINT_URL");
    let kinesis = env_nonempty("AWS_ENDPOINT_URL_KINESIS").or_else(|| general.clone());
    let dynamodb = env_nonempty("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| general.clone());
    if kinesis.is_some() || dynamodb.is_some() {
        // One of the two may still come from the state (e.g. only Kinesis overridden).
        let state = read_state(&state_dir(args.state_dir.as_deref())).ok().flatten();
        let kinesis = kinesis.or_else(|| state.as_ref().map(|s| s.kinesis_endpoint.clone()));
        let dynamodb = dynamodb.or_else(|| state.as_ref().map(|s| s.dynamodb_endpoint.clone()));
        let (Some(k), Some(d)) = (kinesis, dynamodb) else {
            return Err(EndpointError::NoEndpoint);
        };
        return Ok(Endpoint {
            kinesis_url: Some(check_url(&k)?),
            dynamodb_url: Some(check_url(&d)?),
            region: default_region(),
            source: Source::Environment,
        });
    }
    if let Some(state) = read_state(&state_dir(args.state_dir.as_deref()))? {
        return Ok(Endpoint {
            kinesis_url: Some(check_url(&state.kinesis_endpoint)?),
            dynamodb_url: Some(check_url(&state.dynamodb_endpoint)?),
            region: args.region.clone().unwrap_or(state.region),
            source: Source::State,
        });
    }
    Err(EndpointError::NoEndpoint)
}

/// Resolves with the process environment.
pub(crate) fn resolve(args: &Selection) -> Result<Endpoint, EndpointError> {
    resolve_with(args, |k| std::env::var(k).ok())
}

fn check_url(url: &str) -> Result<String, EndpointError> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"))
        .ok_or_else(|| EndpointError::BadUrl(url.to_string()))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(EndpointError::BadUrl(url.to_string()));
    }
    Ok(u.to_string())
}

/// SDK clients for a resolved endpoint.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Kinesis client.
    pub kinesis: aws_sdk_kinesis::Client,
    /// DynamoDB client.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The endpoint they talk to.
    pub endpoint: Endpoint,
}

/// The dummy credentials every request to a local endpoint is signed with (the SDK clients'
/// and `consume`'s plain reads alike).
pub(crate) fn local_credentials() -> aws_sdk_kinesis::config::Credentials {
    aws_sdk_kinesis::config::Credentials::new("kinlocal", "kinlocal", None, None, "kinlocal")
}

/// Builds SDK clients for `endpoint`: dummy credentials locally, the standard chain for AWS.
pub async fn clients(endpoint: &Endpoint, profile: Option<&str>) -> Clients {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(endpoint.region.clone()))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .build(),
        );
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if endpoint.is_local() {
        loader = loader.credentials_provider(local_credentials());
    }
    let shared = loader.load().await;
    let mut k = aws_sdk_kinesis::config::Builder::from(&shared);
    if let Some(url) = &endpoint.kinesis_url {
        k = k.endpoint_url(url);
    }
    let mut d = aws_sdk_dynamodb::config::Builder::from(&shared);
    if let Some(url) = &endpoint.dynamodb_url {
        d = d.endpoint_url(url);
    }
    Clients {
        kinesis: aws_sdk_kinesis::Client::from_conf(k.build()),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(d.build()),
        endpoint: endpoint.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Selection {
        Selection {
            state_dir: Some(PathBuf::from("/nonexistent/kinlocal-state")),
            ..Default::default()
        }
    }

    #[test]
    fn flag_beats_environment() {
        let mut a = args();
        a.endpoint_url = Some("http://127.0.0.1:1".into());
        let e = resolve_with(&a, |k| {
            (k == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:2".into())
        })
        .expect("resolves");
        assert_eq!(e.kinesis_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(e.source, Source::Flag);
    }

    #[test]
    fn service_specific_environment_beats_general() {
        let e = resolve_with(&args(), |k| match k {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:2".into()),
            "AWS_ENDPOINT_URL_KINESIS" => Some("http://127.0.0.1:3".into()),
            _ => None,
        })
        .expect("resolves");
        assert_eq!(e.kinesis_url.as_deref(), Some("http://127.0.0.1:3"));
        assert_eq!(e.dynamodb_url.as_deref(), Some("http://127.0.0.1:2"));
        assert_eq!(e.source, Source::Environment);
    }

    #[test]
    fn nothing_is_an_error_not_aws() {
        let err = resolve_with(&args(), |_| None).expect_err("must not fall through to AWS");
        assert!(err.to_string().contains("kinlocal up"));
    }

    #[test]
    fn aws_only_when_asked() {
        let mut a = args();
        a.aws = true;
        let e = resolve_with(&a, |_| None).expect("resolves");
        assert_eq!(e.source, Source::Aws);
        assert!(e.kinesis_url.is_none());
    }

    #[test]
    fn state_is_used_when_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = UpState {
            backend: "embedded".into(),
            kinesis_endpoint: "http://127.0.0.1:9".into(),
            dynamodb_endpoint: "http://127.0.0.1:9".into(),
            region: "eu-west-1".into(),
            ..Default::default()
        };
        std::fs::write(state_file(dir.path()), serde_json::to_vec(&state).expect("json")).expect("write");
        let mut a = args();
        a.state_dir = Some(dir.path().to_path_buf());
        let e = resolve_with(&a, |_| None).expect("resolves");
        assert_eq!(e.source, Source::State);
        assert_eq!(e.region, "eu-west-1");
    }

    #[test]
    fn bad_url_is_rejected() {
        let mut a = args();
        a.endpoint_url = Some("127.0.0.1:4566".into());
        assert!(matches!(
            resolve_with(&a, |_| None),
            Err(EndpointError::BadUrl(_))
        ));
    }
}
