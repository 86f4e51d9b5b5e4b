//! Arguments of `kinlocal up`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::local::{self, Backend, StreamSpec};

/// `kinlocal up`: start a local Kinesis + DynamoDB endpoint and record where it is.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Which backend: `docker` (containers through the docker CLI), `embedded` (`kinlocal serve`
    /// in the background), or `auto` (docker when a Docker daemon answers, else embedded).
    #[arg(long, value_enum, default_value = "auto", env = "KINLOCAL_BACKEND")]
    pub backend: Backend,
    /// Port on 127.0.0.1 for Kinesis (embedded: Kinesis and DynamoDB); 0 takes a free port.
    #[arg(long, short = 'p', default_value_t = 4566, env = "KINLOCAL_PORT")]
    pub port: u16,
    /// Docker backend: port on 127.0.0.1 for DynamoDB [default: --port + 1, or free when --port is 0].
    #[arg(long, value_name = "PORT")]
    pub dynamodb_port: Option<u16>,
    /// A stream to create, NAME or NAME:SHARDS (repeatable) [default: kinlocal:3].
    #[arg(long = "stream", value_name = "NAME[:SHARDS]")]
    pub streams: Vec<StreamSpec>,
    /// Keep streams, records and tables in DIR across `down`/`up` (in memory otherwise).
    #[arg(long, value_name = "DIR")]
    pub persist: Option<PathBuf>,
    /// Where the state file and the engine log go [default: $XDG_STATE_HOME/kinlocal].
    #[arg(long, value_name = "DIR", env = "KINLOCAL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Region written into ARNs.
    #[arg(long, default_value = "us-east-1", env = "KINLOCAL_REGION")]
    pub region: String,
    /// Docker backend: the Kinesis emulator image (serving plain HTTP on --kinesis-container-port).
    #[arg(long, value_name = "IMAGE", default_value = local::KINESIS_IMAGE)]
    pub kinesis_image: String,
    /// Docker backend: the DynamoDB image (serving on --dynamodb-container-port).
    #[arg(long, value_name = "IMAGE", default_value = local::DYNAMODB_IMAGE)]
    pub dynamodb_image: String,
    /// Docker backend: the plain-HTTP port inside the Kinesis container (kinesis-mock: 4568).
    #[arg(long, value_name = "PORT", default_value_t = local::KINESIS_CONTAINER_PORT)]
    pub kinesis_container_port: u16,
    /// Docker backend: the port inside the DynamoDB container (dynamodb-local: 8000).
    #[arg(long, value_name = "PORT", default_value_t = local::DYNAMODB_CONTAINER_PORT)]
    pub dynamodb_container_port: u16,
    /// Docker backend: container names are PREFIX-kinesis and PREFIX-dynamodb (one prefix per
    /// parallel CI job).
    #[arg(long, value_name = "PREFIX", default_value = "kinlocal", env = "KINLOCAL_NAME_PREFIX", value_parser = parse_name_prefix)]
    pub name_prefix: String,
    /// How long to wait for the backend to answer ListStreams and ListTables.
    #[arg(long, default_value = "60s", value_parser = super::values::positive_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Print `export AWS_ENDPOINT_URL=… AWS_REGION=… AWS_DEFAULT_REGION=… AWS_ACCESS_KEY_ID=…
    /// AWS_SECRET_ACCESS_KEY=…` on stdout (progress goes to stderr), for
    /// `eval "$(kinlocal up --print-env)"`.
    #[arg(long, conflicts_with = "json")]
    pub print_env: bool,
    /// Print one JSON object on stdout (endpoints, region, backend, streams, and the `env` that
    /// --print-env would export); progress goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// Write AWS profile NAME (endpoint_url, region, dummy credentials) into the shared AWS
    /// config and credentials files; other profiles are left untouched.
    #[arg(long, value_name = "NAME", value_parser = parse_profile_name)]
    pub write_profile: Option<String>,
}

fn parse_name_prefix(s: &str) -> Result<String, String> {
    let mut bytes = s.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' cannot start a container name: use letters, digits, '_', '.', '-', starting with a letter or digit"
        ))
    }
}

fn parse_profile_name(s: &str) -> Result<String, String> {
    if !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '[' || c == ']') {
        Ok(s.to_string())
    } else {
        Err(format!("'{s}' is not a profile name: no spaces or brackets"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_prefix_must_make_a_container_name() {
        assert!(parse_name_prefix("ci-job_7.a").is_ok());
        assert!(parse_name_prefix("-x").is_err());
        assert!(parse_name_prefix("a b").is_err());
        assert!(parse_name_prefix("").is_err());
    }

    #[test]
    fn profile_name_has_no_brackets_or_spaces() {
        assert!(parse_profile_name("kinlocal").is_ok());
        assert!(parse_profile_name("a]b").is_err());
        assert!(parse_profile_name("a b").is_err());
    }
}
