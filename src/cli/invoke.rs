//! Arguments of `kinlocal invoke`, and the function-runtime flags it shares with `consume`
//! (the Lambda Runtime API, handlers by name, environment, layers).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::esm::invoker::bootstrap::Runtime;

/// How the function runs when it is more than "a process per batch": a bootstrap speaking the
/// Lambda Runtime API, or a handler by name with a bundled (or the official) runtime client.
#[derive(Debug, Clone, Args, Default)]
pub struct FunctionRuntimeArgs {
    /// Run --exec as a Lambda bootstrap speaking the Runtime API (a lambda_runtime binary,
    /// `python3 -m awslambdaric app.handler`, aws-lambda-ric…), kept warm between invocations.
    #[arg(long, requires = "exec")]
    pub runtime_api: bool,
    /// Serve the Runtime API without starting any process: print AWS_LAMBDA_RUNTIME_API and
    /// the environment to start your function with (under a debugger or an IDE), and wait.
    /// No timeout kill in this mode.
    #[arg(long, conflicts_with_all = ["exec", "handler"])]
    pub runtime_api_only: bool,
    /// The handler by name, as in the Lambda console: `[dir/]file.function` (e.g.
    /// src/app.handler); run with a bundled runtime client for --runtime.
    #[arg(long, value_name = "HANDLER", requires = "runtime", conflicts_with = "exec")]
    pub handler: Option<String>,
    /// The Lambda runtime for --handler: python3.9 … python3.14, nodejs18.x … nodejs24.x.
    #[arg(long, value_name = "RUNTIME", value_parser = Runtime::parse, requires = "handler")]
    pub runtime: Option<Runtime>,
    /// LAMBDA_TASK_ROOT for --handler, the directory the handler path is relative to
    /// (default: the handler's own directory).
    #[arg(long, value_name = "DIR", requires = "handler")]
    pub task_root: Option<PathBuf>,
    /// With --handler: run the official runtime interface client (awslambdaric for Python,
    /// node_modules/aws-lambda-ric for Node) instead of kinlocal's bundled one.
    #[arg(long, requires = "handler")]
    pub ric: bool,
    /// A Lambda layer directory, laid out like /opt (python/, nodejs/node_modules, bin, lib);
    /// repeatable, in order.
    #[arg(long, value_name = "DIR", requires = "handler")]
    pub layer: Vec<PathBuf>,
    /// The Python interpreter for a python --runtime (default: python3.X if on PATH, else
    /// python3).
    #[arg(long, value_name = "PATH", env = "KINLOCAL_PYTHON", requires = "handler")]
    pub python: Option<PathBuf>,
    /// The Node.js binary for a nodejs --runtime (default: node).
    #[arg(long, value_name = "PATH", env = "KINLOCAL_NODE", requires = "handler")]
    pub node: Option<PathBuf>,
    /// An environment variable for the function (KEY=VALUE); repeatable; wins over
    /// --env-file and kinlocal's own Lambda variables.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = super::values::env_pair)]
    pub env: Vec<(String, String)>,
    /// A dotenv file of variables for the function (KEY=VALUE lines, # comments); repeatable.
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
}

/// `kinlocal invoke`: run the function once with a Kinesis event and print its return value.
#[derive(Debug, Args)]
#[command(
    after_help = "The event is Lambda's Kinesis event: --event FILE (or - for stdin) as is, or \
built from --record / --records-from like consume builds it. The return value goes to stdout. \
Exit codes: 0 success, 1 function error or timeout (the error JSON on stdout), 2 bad input or a \
function that fails to initialize."
)]
pub struct InvokeArgs {
    /// The handler command line (split with shell quoting rules, never run through a shell):
    /// a process reading the event on stdin, or a bootstrap with --runtime-api.
    #[arg(long, short = 'e', value_name = "COMMAND", required_unless_present_any = ["handler", "runtime_api_only"])]
    pub exec: Option<String>,
    /// The function runtime.
    #[command(flatten)]
    pub function: FunctionRuntimeArgs,
    /// A complete event document (JSON file, or - for stdin), sent as is.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["record", "records_from"])]
    pub event: Option<PathBuf>,
    /// One record's data (e.g. a JSON document); repeatable; the event is built as consume
    /// builds it.
    #[arg(long, value_name = "DATA")]
    pub record: Vec<String>,
    /// A file with one record's data per line (NDJSON); the event is built as consume builds it.
    #[arg(long, value_name = "FILE")]
    pub records_from: Option<PathBuf>,
    /// Partition key of the built records.
    #[arg(long, default_value = "kinlocal", value_name = "KEY")]
    pub partition_key: String,
    /// Stream name in the built records' eventSourceARN.
    #[arg(long, default_value = "kinlocal", value_name = "NAME")]
    pub stream: String,
    /// Function timeout; the process group is killed after it.
    #[arg(long, short = 't', default_value = "3s", value_name = "DURATION", value_parser = super::values::duration)]
    pub timeout: Duration,
    /// AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB, 128-10240).
    #[arg(long, default_value_t = 128, value_name = "MB", value_parser = clap::value_parser!(u32).range(128..=10240))]
    pub memory_size: u32,
    /// Function name in its ARN and AWS_LAMBDA_FUNCTION_NAME (default: the handler's file name).
    #[arg(long, value_name = "NAME")]
    pub function_name: Option<String>,
    /// Region in ARNs and AWS_REGION.
    #[arg(long, default_value = "us-east-1", env = "AWS_REGION", value_name = "REGION")]
    pub region: String,
    /// Account id in ARNs.
    #[arg(long, default_value = "000000000000", value_name = "ID")]
    pub account_id: String,
}
