//! Integration tests: one binary, modules per area. Each test starts the embedded engine on
//! 127.0.0.1 with an OS-assigned port and talks to it with the real AWS SDK or the real binary.

mod peers;
mod support;

mod cli_completions;
mod cli_errors;
mod cli_honest_skips;
mod cli_messages;
mod consume;
mod consume_failures;
mod consume_filter;
mod consume_reshard;
mod consume_scaleout;
mod demo;
mod dynamodb;
mod dynamodb_admin;
mod dynamodb_diff;
mod dynamodb_indexes;
mod dynamodb_kcl3;
mod dynamodb_support;
mod dynamodb_transact;
mod file_modes;
mod fuzz;
mod journal;
mod kinesis_diff;
mod kinesis_fanout;
mod kinesis_http2;
mod kinesis_node_sdk;
mod kinesis_protocol;
mod kinesis_records;
mod kinesis_reshard;
mod kinesis_settings;
mod kinesis_streams;
mod produce;
mod readme_examples;
mod reliability;
mod serve;
mod status;
mod streams;
mod template;
mod up_chain;
mod up_docker;
mod up_embedded;
mod up_endpoint;
mod up_support;
