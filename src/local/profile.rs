//! `up --write-profile NAME`: an AWS profile with `endpoint_url` (and dummy credentials) in the
//! shared config files, so `aws --profile NAME kinesis list-streams` and any SDK reach the local
//! endpoint. Only that profile's sections are rewritten; every other byte stays as it was.

use std::path::{Path, PathBuf};

use super::LocalError;
use crate::endpoint::UpState;

/// The two shared files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedFiles {
    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub config: PathBuf,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub credentials: PathBuf,
}

impl SharedFiles {
    /// Where the SDKs and the AWS CLI look, per the environment.
    pub(crate) fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        let home = env("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        let pick = |var: &str, file: &str| {
            env(var)
                .filter(|v| !v.is_empty())
                .map_or_else(|| home.join(".aws").join(file), PathBuf::from)
        };
        Self {
            config: pick("AWS_CONFIG_FILE", "config"),
            credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        }
    }
}

/// Writes (or rewrites) profile `name` for the endpoint in `state`.
pub(crate) fn write_profile(files: &SharedFiles, name: &str, state: &UpState) -> Result<(), LocalError> {
    let header = if name == "default" {
        "[default]".to_string()
    } else {
        format!("[profile {name}]")
    };
    let mut body = vec![
        format!("region = {}", state.region),
        format!("endpoint_url = {}", state.kinesis_endpoint),
    ];
    let services = format!("kinlocal-{name}");
    let split = state.kinesis_endpoint != state.dynamodb_endpoint;
    if split {
        // Two ports (docker backend): per-service endpoints through a `services` section.
        body.push(format!("services = {services}"));
    }
    let mut config = read(&files.config)?;
    config = upsert_section(&config, &header, &body);
    if split {
        config = upsert_section(
            &config,
            &format!("[services {services}]"),
            &[
                "kinesis =".to_string(),
                format!("  endpoint_url = {}", state.kinesis_endpoint),
                "dynamodb =".to_string(),
                format!("  endpoint_url = {}", state.dynamodb_endpoint),
            ],
        );
    }
    write(&files.config, &config)?;
    let credentials = upsert_section(
        &read(&files.credentials)?,
        &format!("[{name}]"),
        &[
            "aws_access_key_id = kinlocal".to_string(),
            "aws_secret_access_key = kinlocal".to_string(),
        ],
    );
    write(&files.credentials, &credentials)
}

fn read(path: &Path) -> Result<String, LocalError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(LocalError::Profile {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }),
    }
}

fn write(path: &Path, text: &str) -> Result<(), LocalError> {
    let err = |e: std::io::Error| LocalError::Profile {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        super::private::create_dir(parent).map_err(err)?;
    }
    let tmp = path.with_extension("kinlocal.tmp");
    // The credentials file keeps its 0600 (a new one is created 0600, as the AWS CLI does).
    super::private::replace_file(path, &tmp, text.as_bytes()).map_err(err)
}

/// `[profile  x ]` and `[profile x]` name the same section.
fn normalize(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Replaces the body of section `header` (or appends the section), leaving every other line
/// exactly as it was.
pub(crate) fn upsert_section(text: &str, header: &str, body: &[String]) -> String {
    let want = normalize(header);
    let lines: Vec<&str> = text.lines().collect();
    let is_header = |l: &str| l.trim_start().starts_with('[');
    let start = lines.iter().position(|l| is_header(l) && normalize(l) == want);
    let mut out: Vec<String> = Vec::new();
    match start {
        Some(i) => {
            let end = lines[i + 1..]
                .iter()
                .position(|l| is_header(l))
                .map_or(lines.len(), |j| i + 1 + j);
            out.extend(lines[..=i].iter().map(|l| l.to_string()));
            out.extend(body.iter().cloned());
            if end < lines.len() {
                out.push(String::new());
            }
            out.extend(lines[end..].iter().map(|l| l.to_string()));
        }
        None => {
            out.extend(lines.iter().map(|l| l.to_string()));
            if out.last().is_some_and(|l| !l.trim().is_empty()) {
                out.push(String::new());
            }
            out.push(header.to_string());
            out.extend(body.iter().cloned());
        }
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(k: &str, d: &str) -> UpState {
        UpState {
            backend: "embedded".into(),
            kinesis_endpoint: k.into(),
            dynamodb_endpoint: d.into(),
            region: "eu-west-1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn other_profiles_are_untouched() {
        let original = "[default]\nregion = us-east-1\n# my comment\n\n[profile work]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n\n[profile kl]\nregion = old\nendpoint_url = http://old\n\n[sso-session s]\nsso_region = us-east-1\n";
        let got = upsert_section(
            original,
            "[profile kl]",
            &[
                "region = eu-west-1".into(),
                "endpoint_url = http://127.0.0.1:4566".into(),
            ],
        );
        assert_eq!(
            got,
            "[default]\nregion = us-east-1\n# my comment\n\n[profile work]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n\n[profile kl]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:4566\n\n[sso-session s]\nsso_region = us-east-1\n"
        );
        // Idempotent.
        assert_eq!(
            upsert_section(
                &got,
                "[profile kl]",
                &[
                    "region = eu-west-1".into(),
                    "endpoint_url = http://127.0.0.1:4566".into()
                ],
            ),
            got
        );
    }

    #[test]
    fn a_new_profile_is_appended() {
        assert_eq!(
            upsert_section("[default]\nregion = x", "[profile kl]", &["a = b".into()]),
            "[default]\nregion = x\n\n[profile kl]\na = b\n"
        );
        assert_eq!(upsert_section("", "[kl]", &["a = b".into()]), "[kl]\na = b\n");
    }

    #[test]
    fn writes_config_and_credentials_with_per_service_endpoints_when_ports_differ() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = SharedFiles {
            config: dir.path().join("aws/config"),
            credentials: dir.path().join("aws/credentials"),
        };
        std::fs::create_dir_all(dir.path().join("aws")).expect("mkdir");
        std::fs::write(&files.credentials, "[default]\naws_access_key_id = REAL\n").expect("write");
        write_profile(
            &files,
            "kl",
            &state("http://127.0.0.1:4566", "http://127.0.0.1:4567"),
        )
        .expect("write");
        let config = std::fs::read_to_string(&files.config).expect("config");
        assert!(config.contains("[profile kl]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:4566\nservices = kinlocal-kl\n"), "{config}");
        assert!(config.contains("[services kinlocal-kl]\nkinesis =\n  endpoint_url = http://127.0.0.1:4566\ndynamodb =\n  endpoint_url = http://127.0.0.1:4567\n"), "{config}");
        let creds = std::fs::read_to_string(&files.credentials).expect("credentials");
        assert_eq!(
            creds,
            "[default]\naws_access_key_id = REAL\n\n[kl]\naws_access_key_id = kinlocal\naws_secret_access_key = kinlocal\n"
        );
    }

    #[test]
    fn files_follow_the_environment() {
        let f = SharedFiles::from_env(|k| match k {
            "HOME" => Some("/home/u".into()),
            "AWS_CONFIG_FILE" => Some("/etc/aws.cfg".into()),
            _ => None,
        });
        assert_eq!(f.config, PathBuf::from("/etc/aws.cfg"));
        assert_eq!(f.credentials, PathBuf::from("/home/u/.aws/credentials"));
    }
}
