//! `kinlocal up`: resolve the arguments, start the backend through [`crate::local::up`], print
//! one line per thing started, then the environment or the AWS profile when asked.

use crate::cli::UpArgs;
use crate::docker::DockerCli;
use crate::endpoint::state_dir;
use crate::local::profile::{self, SharedFiles};
use crate::local::up::{self as local_up, UpOptions};
use crate::local::{StreamSpec, DEFAULT_SHARDS, DEFAULT_STREAM};

/// Runs `kinlocal up`.
pub fn run(args: UpArgs) -> anyhow::Result<i32> {
    let streams = if args.streams.is_empty() {
        vec![StreamSpec {
            name: DEFAULT_STREAM.to_string(),
            shards: DEFAULT_SHARDS,
        }]
    } else {
        args.streams.clone()
    };
    let opts = UpOptions {
        backend: args.backend,
        port: args.port,
        dynamodb_port: args.dynamodb_port,
        streams,
        persist: args.persist.clone(),
        state_dir: state_dir(args.state_dir.as_deref()),
        region: args.region.clone(),
        kinesis_image: args.kinesis_image.clone(),
        dynamodb_image: args.dynamodb_image.clone(),
        kinesis_container_port: args.kinesis_container_port,
        dynamodb_container_port: args.dynamodb_container_port,
        name_prefix: args.name_prefix.clone(),
        timeout: args.timeout,
    };
    // With --print-env, stdout is for `eval`: progress goes to stderr.
    let to_stderr = args.print_env;
    let mut say = |line: &str| {
        if to_stderr {
            eprintln!("{line}");
        } else {
            let _ = super::write_stdout(format!("{line}\n").as_bytes());
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let state = rt.block_on(local_up::up(&opts, &DockerCli::default(), &mut say))?;
    if let Some(name) = &args.write_profile {
        let files = SharedFiles::from_env(|k| std::env::var(k).ok());
        profile::write_profile(&files, name, &state)?;
        say(&format!(
            "wrote AWS profile {name} to {} and {}",
            files.config.display(),
            files.credentials.display()
        ));
    }
    if args.print_env {
        let mut vars = vec![("AWS_ENDPOINT_URL", state.kinesis_endpoint.clone())];
        if state.dynamodb_endpoint != state.kinesis_endpoint {
            vars.push(("AWS_ENDPOINT_URL_DYNAMODB", state.dynamodb_endpoint.clone()));
        }
        vars.push(("AWS_REGION", state.region.clone()));
        vars.push(("AWS_ACCESS_KEY_ID", "kinlocal".to_string()));
        vars.push(("AWS_SECRET_ACCESS_KEY", "kinlocal".to_string()));
        let line = vars
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_words::quote(v)))
            .collect::<Vec<_>>()
            .join(" ");
        super::write_stdout(format!("export {line}\n").as_bytes())?;
    }
    Ok(crate::exit::SUCCESS)
}
