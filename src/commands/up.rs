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
    let to_stderr = args.print_env || args.json;
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
    let vars = env_vars(&state);
    if args.json {
        let env: serde_json::Map<String, serde_json::Value> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), serde_json::Value::String(v.clone())))
            .collect();
        let mut v = serde_json::to_value(&state)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("env".into(), serde_json::Value::Object(env));
        }
        super::write_stdout(format!("{v}\n").as_bytes())?;
    }
    if args.print_env {
        let line = vars
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_words::quote(v)))
            .collect::<Vec<_>>()
            .join(" ");
        super::write_stdout(format!("export {line}\n").as_bytes())?;
    }
    Ok(crate::exit::SUCCESS)
}

/// What an SDK or a CLI needs to reach the endpoint. Both region variables: boto3 and the AWS
/// CLI v1 read only `AWS_DEFAULT_REGION`, the newer SDKs `AWS_REGION`.
fn env_vars(state: &crate::endpoint::UpState) -> Vec<(&'static str, String)> {
    let mut vars = vec![("AWS_ENDPOINT_URL", state.kinesis_endpoint.clone())];
    if state.dynamodb_endpoint != state.kinesis_endpoint {
        vars.push(("AWS_ENDPOINT_URL_DYNAMODB", state.dynamodb_endpoint.clone()));
    }
    vars.push(("AWS_REGION", state.region.clone()));
    vars.push(("AWS_DEFAULT_REGION", state.region.clone()));
    vars.push(("AWS_ACCESS_KEY_ID", "kinlocal".to_string()));
    vars.push(("AWS_SECRET_ACCESS_KEY", "kinlocal".to_string()));
    vars
}
