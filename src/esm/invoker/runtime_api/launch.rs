//! From the user's choice of function runtime (a bootstrap command, a handler by name, or
//! nothing with `--runtime-api-only`) to the settings every lane's warm instance shares.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::environment::{lambda_environment, read_env_file, FunctionIdentity};
use super::instance::InstanceSettings;
use crate::esm::invoker::bootstrap::{self, HandlerSpec};

/// Lambda's init phase limit.
pub(crate) const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What runs behind the Runtime API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bootstrap {
    /// `--exec CMD --runtime-api`: the user's bootstrap.
    Command(Vec<String>),
    /// `--handler H --runtime R`: a bundled or official runtime client.
    Handler(HandlerSpec),
    /// `--runtime-api-only`: nothing; the user starts the function.
    None,
}

/// Everything needed to start warm instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuntimeApiOptions {
    /// What runs.
    pub bootstrap: Bootstrap,
    /// `--env-file` files, in order.
    pub env_files: Vec<PathBuf>,
    /// `--env` pairs (win over the files).
    pub env: Vec<(String, String)>,
}

/// Why the function cannot be launched (a usage error: exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LaunchError {
    /// A handler by name cannot be prepared.
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// An env file cannot be read.
    #[error("{0}")]
    EnvFile(String),
}

/// The user's variables: env files in order, then `--env` (last one wins).
pub(crate) fn user_environment(
    env_files: &[PathBuf],
    env: &[(String, String)],
) -> Result<Vec<(String, String)>, LaunchError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for f in env_files {
        out.extend(read_env_file(f).map_err(LaunchError::EnvFile)?);
    }
    out.extend(env.iter().cloned());
    Ok(out)
}

/// The settings of every lane's instance. `cwd` resolves relative paths.
pub(crate) fn instance_settings(
    options: &RuntimeApiOptions,
    identity: &FunctionIdentity,
    cwd: &Path,
) -> Result<InstanceSettings, LaunchError> {
    let user = user_environment(&options.env_files, &options.env)?;
    let (command, handler, task_root, mut extra) = match &options.bootstrap {
        Bootstrap::Command(c) => (Some(c.clone()), None, cwd.to_path_buf(), Vec::new()),
        Bootstrap::None => (None, None, cwd.to_path_buf(), Vec::new()),
        Bootstrap::Handler(spec) => {
            let p = bootstrap::prepare(spec, cwd)?;
            (Some(p.command), Some(p.handler), p.task_root, p.env)
        }
    };
    let mut env = lambda_environment(identity, handler.as_deref(), &task_root, &[]);
    env.append(&mut extra);
    for (k, v) in user {
        env.retain(|(name, _)| *name != k);
        env.push((k, v));
    }
    Ok(InstanceSettings {
        command,
        env,
        cwd: Some(task_root),
        init_timeout: INIT_TIMEOUT,
    })
}

/// The function name a handler implies: `app` for `src/app.handler`, `index` for
/// `index.handler`.
pub(crate) fn function_name_of_handler(handler: &str) -> String {
    let base = handler.rsplit('/').next().unwrap_or(handler);
    let module = base.split('.').next().unwrap_or(base);
    crate::esm::config::function_name_from(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_variables_win_and_handlers_get_their_task_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(".env");
        std::fs::write(&file, "A=file\nB=file\n").expect("write");
        let options = RuntimeApiOptions {
            bootstrap: Bootstrap::Command(vec!["./bootstrap".into()]),
            env_files: vec![file],
            env: vec![("B".into(), "flag".into()), ("AWS_REGION".into(), "mine".into())],
        };
        let identity = FunctionIdentity {
            name: "f".into(),
            memory_size: 128,
            region: "us-east-1".into(),
            timeout: Duration::from_secs(3),
        };
        let s = instance_settings(&options, &identity, dir.path()).expect("settings");
        let get = |k: &str| s.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("file"));
        assert_eq!(get("B"), Some("flag"));
        assert_eq!(get("AWS_REGION"), Some("mine"));
        assert_eq!(s.command, Some(vec!["./bootstrap".to_string()]));
        assert_eq!(s.cwd.as_deref(), Some(dir.path()));

        let missing = RuntimeApiOptions {
            env_files: vec![dir.path().join("nope")],
            ..options
        };
        assert!(matches!(
            instance_settings(&missing, &identity, dir.path()),
            Err(LaunchError::EnvFile(_))
        ));
    }

    #[test]
    fn handler_names_give_function_names() {
        assert_eq!(function_name_of_handler("src/app.handler"), "app");
        assert_eq!(function_name_of_handler("index.handlers.main"), "index");
        assert_eq!(function_name_of_handler("handler"), "handler");
    }
}
