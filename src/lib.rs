//! kinlocal: everything that happens when an AWS Lambda function is plugged into a Kinesis
//! Data Stream, on a laptop or in CI, without an AWS account.
//!
//! Module map:
//! - [`aws_error`]: AWS SDK errors as one line for people (no `Debug`), with a hint.
//! - [`backoff`]: the one exponential backoff every retry and wait loop uses.
//! - [`cli`]: the clap tree, every flag once.
//! - [`commands`]: one module per subcommand, thin: resolve arguments, call the domain, print.
//! - [`deploy`]: a function and its Kinesis mapping read from SAM, CloudFormation, serverless.yml or Terraform files.
//! - [`endpoint`]: which endpoint to talk to (flag > env > `up` state > `--aws`); SDK clients.
//! - [`engine`]: the embedded Kinesis + DynamoDB server (`kinlocal serve`).
//! - [`esm`]: the event source mapping (`kinlocal consume`): shard readers, batches, the
//!   exact Lambda event, the handler invoker, retries and checkpoints.
//! - [`exit`]: the exit-code contract shared by every subcommand.
//! - [`human`]: ages and sequence numbers for people.
//! - [`docker`]: the docker CLI behind a small trait, with errors classified from its stderr.
//! - [`local`]: `up` / `down` / `status`: backends, the state file, the AWS profile.
//! - [`producer`]: `produce`: record generation (random, template, replay) and the PutRecords sender.
//! - [`sample`]: `event`: a Kinesis event built by consume's own code, for handlers' tests.
//! - [`streams`]: `create-stream`, `delete-stream`, `list-streams`: idempotent create, waits.
//! - [`tail`]: `tail`: read every shard from a position, until caught up or following.

pub mod aws_error;
pub mod backoff;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod docker;
pub mod endpoint;
pub mod engine;
pub mod esm;
pub mod exit;
pub mod human;
pub mod local;
pub mod producer;
pub mod sample;
pub mod streams;
pub mod tail;
