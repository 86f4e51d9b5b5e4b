//! Reading a function and its Kinesis event source mapping from the user's own deployment files
//! (`consume --template FILE --function NAME`): AWS SAM and CloudFormation (YAML with the short
//! intrinsic tags, or JSON), the Serverless Framework's `serverless.yml`, and Terraform `.tf`
//! files. Every format is first turned into JSON values with its references resolved, then the
//! settings are picked out by the key names that format uses (one file per format), into one
//! [`ResolvedMapping`] that says where each value came from and warns about what kinlocal cannot
//! honour.

mod cloudformation;
mod serverless;
mod terraform;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Region and account the templates' pseudo parameters and synthesized ARNs resolve to.
pub(crate) const REGION: &str = "us-east-1";
/// See [`REGION`].
pub(crate) const ACCOUNT_ID: &str = "000000000000";

/// Why a deployment file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid YAML/JSON/HCL.
    #[error("{path}: {reason}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// The function is not in the file.
    #[error("{path}: no function named {name} (functions found: {found})")]
    NoFunction {
        /// The file.
        path: PathBuf,
        /// What was asked for.
        name: String,
        /// What the file has.
        found: String,
    },
    /// The function has no Kinesis event source mapping.
    #[error("{path}: function {name} has no Kinesis event source")]
    NoKinesisSource {
        /// The file.
        path: PathBuf,
        /// The function.
        name: String,
    },
    /// The function has several Kinesis mappings.
    #[error("{path}: function {name} has {count} Kinesis event sources; kinlocal consumes one stream per run (pass --stream to pick: {streams})")]
    SeveralSources {
        /// The file.
        path: PathBuf,
        /// The function.
        name: String,
        /// How many.
        count: usize,
        /// Their streams.
        streams: String,
    },
    /// A setting has a value of the wrong type.
    #[error("{location}: {problem}")]
    BadValue {
        /// Where.
        location: String,
        /// What is wrong.
        problem: String,
    },
    /// The file's format could not be told.
    #[error("{0}: not a SAM/CloudFormation template (no Resources), a serverless.yml (no functions) or a Terraform .tf file")]
    UnknownFormat(PathBuf),
}

/// A value and where it came from (`template.yaml: Resources.Fn.Properties.Timeout`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// The file and path inside it, or the default that supplied it.
    pub source: String,
}

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// AWS SAM (a CloudFormation template with the Serverless transform).
    Sam,
    /// Plain CloudFormation.
    CloudFormation,
    /// Serverless Framework.
    Serverless,
    /// Terraform.
    Terraform,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sam => "AWS SAM",
            Self::CloudFormation => "CloudFormation",
            Self::Serverless => "Serverless Framework",
            Self::Terraform => "Terraform",
        })
    }
}

/// The function and its Kinesis event source mapping as a deployment file gives them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResolvedMapping {
    /// The function's name (`FunctionName`, else the logical/config name).
    pub function_name: Option<Sourced<String>>,
    /// `Handler`.
    pub handler: Option<Sourced<String>>,
    /// `Runtime`.
    pub runtime: Option<Sourced<String>>,
    /// `Timeout`, seconds.
    pub timeout_secs: Option<Sourced<u64>>,
    /// `MemorySize`, MB.
    pub memory_size: Option<Sourced<u64>>,
    /// `Environment.Variables`.
    pub environment: Option<Sourced<BTreeMap<String, String>>>,
    /// The stream's name.
    pub stream: Option<Sourced<String>>,
    /// The enhanced fan-out consumer, when the mapping reads through one.
    pub consumer: Option<Sourced<String>>,
    /// `BatchSize`.
    pub batch_size: Option<Sourced<u64>>,
    /// `MaximumBatchingWindowInSeconds`.
    pub maximum_batching_window_secs: Option<Sourced<u64>>,
    /// `StartingPosition`: `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP`.
    pub starting_position: Option<Sourced<String>>,
    /// `StartingPositionTimestamp`, Unix seconds.
    pub starting_position_timestamp: Option<Sourced<f64>>,
    /// `ParallelizationFactor`.
    pub parallelization_factor: Option<Sourced<u64>>,
    /// `MaximumRetryAttempts` (-1 infinite).
    pub maximum_retry_attempts: Option<Sourced<i64>>,
    /// `MaximumRecordAgeInSeconds` (-1 infinite).
    pub maximum_record_age_secs: Option<Sourced<i64>>,
    /// `BisectBatchOnFunctionError`.
    pub bisect_batch_on_function_error: Option<Sourced<bool>>,
    /// `FunctionResponseTypes` holds `ReportBatchItemFailures`.
    pub report_batch_item_failures: Option<Sourced<bool>>,
    /// `TumblingWindowInSeconds`.
    pub tumbling_window_secs: Option<Sourced<u64>>,
    /// `FilterCriteria.Filters[].Pattern`, each compact JSON text.
    pub filter_patterns: Option<Sourced<Vec<String>>>,
    /// `DestinationConfig.OnFailure.Destination` (an ARN).
    pub on_failure_destination: Option<Sourced<String>>,
    /// `Enabled`.
    pub enabled: Option<Sourced<bool>>,
    /// Settings kinlocal cannot honour, and references it could not resolve.
    pub warnings: Vec<String>,
    /// Which format the file was.
    pub format: Option<Format>,
}

impl ResolvedMapping {
    /// The settings without their sources, keyed by the Lambda API names: what two files
    /// describing the same mapping must agree on.
    pub fn values(&self) -> Value {
        fn put<T: serde::Serialize>(m: &mut serde_json::Map<String, Value>, k: &str, v: Option<&Sourced<T>>) {
            if let Some(s) = v {
                m.insert(
                    k.to_string(),
                    serde_json::to_value(&s.value).unwrap_or(Value::Null),
                );
            }
        }
        let mut m = serde_json::Map::new();
        put(&mut m, "FunctionName", self.function_name.as_ref());
        put(&mut m, "Handler", self.handler.as_ref());
        put(&mut m, "Runtime", self.runtime.as_ref());
        put(&mut m, "Timeout", self.timeout_secs.as_ref());
        put(&mut m, "MemorySize", self.memory_size.as_ref());
        put(&mut m, "Environment", self.environment.as_ref());
        put(&mut m, "Stream", self.stream.as_ref());
        put(&mut m, "Consumer", self.consumer.as_ref());
        put(&mut m, "BatchSize", self.batch_size.as_ref());
        put(
            &mut m,
            "MaximumBatchingWindowInSeconds",
            self.maximum_batching_window_secs.as_ref(),
        );
        put(&mut m, "StartingPosition", self.starting_position.as_ref());
        put(
            &mut m,
            "StartingPositionTimestamp",
            self.starting_position_timestamp.as_ref(),
        );
        put(
            &mut m,
            "ParallelizationFactor",
            self.parallelization_factor.as_ref(),
        );
        put(
            &mut m,
            "MaximumRetryAttempts",
            self.maximum_retry_attempts.as_ref(),
        );
        put(
            &mut m,
            "MaximumRecordAgeInSeconds",
            self.maximum_record_age_secs.as_ref(),
        );
        put(
            &mut m,
            "BisectBatchOnFunctionError",
            self.bisect_batch_on_function_error.as_ref(),
        );
        put(
            &mut m,
            "ReportBatchItemFailures",
            self.report_batch_item_failures.as_ref(),
        );
        put(
            &mut m,
            "TumblingWindowInSeconds",
            self.tumbling_window_secs.as_ref(),
        );
        put(&mut m, "FilterCriteria", self.filter_patterns.as_ref());
        put(
            &mut m,
            "OnFailureDestination",
            self.on_failure_destination.as_ref(),
        );
        put(&mut m, "Enabled", self.enabled.as_ref());
        Value::Object(m)
    }

    /// One line per setting: name, value, where it came from.
    pub fn lines(&self) -> Vec<(String, String, String)> {
        fn line<T: fmt::Debug + serde::Serialize>(
            out: &mut Vec<(String, String, String)>,
            name: &str,
            v: Option<&Sourced<T>>,
        ) {
            if let Some(s) = v {
                let text = match serde_json::to_value(&s.value) {
                    Ok(Value::String(t)) => t,
                    Ok(other) => other.to_string(),
                    Err(_) => String::new(),
                };
                out.push((name.to_string(), text, s.source.clone()));
            }
        }
        let mut out = Vec::new();
        line(&mut out, "FunctionName", self.function_name.as_ref());
        line(&mut out, "Handler", self.handler.as_ref());
        line(&mut out, "Runtime", self.runtime.as_ref());
        line(&mut out, "Timeout", self.timeout_secs.as_ref());
        line(&mut out, "MemorySize", self.memory_size.as_ref());
        line(&mut out, "Environment", self.environment.as_ref());
        line(&mut out, "Stream", self.stream.as_ref());
        line(&mut out, "Consumer", self.consumer.as_ref());
        line(&mut out, "BatchSize", self.batch_size.as_ref());
        line(
            &mut out,
            "MaximumBatchingWindowInSeconds",
            self.maximum_batching_window_secs.as_ref(),
        );
        line(&mut out, "StartingPosition", self.starting_position.as_ref());
        line(
            &mut out,
            "StartingPositionTimestamp",
            self.starting_position_timestamp.as_ref(),
        );
        line(
            &mut out,
            "ParallelizationFactor",
            self.parallelization_factor.as_ref(),
        );
        line(
            &mut out,
            "MaximumRetryAttempts",
            self.maximum_retry_attempts.as_ref(),
        );
        line(
            &mut out,
            "MaximumRecordAgeInSeconds",
            self.maximum_record_age_secs.as_ref(),
        );
        line(
            &mut out,
            "BisectBatchOnFunctionError",
            self.bisect_batch_on_function_error.as_ref(),
        );
        let response_types = self.report_batch_item_failures.as_ref().map(|r| Sourced {
            value: if r.value {
                vec!["ReportBatchItemFailures"]
            } else {
                Vec::new()
            },
            source: r.source.clone(),
        });
        line(&mut out, "FunctionResponseTypes", response_types.as_ref());
        line(
            &mut out,
            "TumblingWindowInSeconds",
            self.tumbling_window_secs.as_ref(),
        );
        line(&mut out, "FilterCriteria", self.filter_patterns.as_ref());
        line(
            &mut out,
            "DestinationConfig.OnFailure",
            self.on_failure_destination.as_ref(),
        );
        line(&mut out, "Enabled", self.enabled.as_ref());
        out
    }
}

/// Reads `path` (a file, or for Terraform a directory of `.tf` files) and resolves the
/// function `function` (its logical/config name or its `FunctionName`) and its Kinesis mapping.
/// `stream` picks one mapping when the function has several.
pub fn load(path: &Path, function: &str, stream: Option<&str>) -> Result<ResolvedMapping, DeployError> {
    let is_tf = path.is_dir() || path.extension().is_some_and(|e| e == "tf" || e == "hcl");
    if is_tf {
        return terraform::load(path, function, stream);
    }
    let text = std::fs::read_to_string(path).map_err(|e| DeployError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let doc = cloudformation::parse_yaml_or_json(&text).map_err(|reason| DeployError::Syntax {
        path: path.to_path_buf(),
        reason,
    })?;
    if doc.get("Resources").is_some() {
        return cloudformation::resolve(path, &doc, function, stream);
    }
    if doc.get("functions").is_some() {
        return serverless::resolve(path, &doc, function, stream);
    }
    Err(DeployError::UnknownFormat(path.to_path_buf()))
}

/// The file name for sources (`template.yaml`), not the whole path.
fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A stream's name from its ARN (`arn:aws:kinesis:r:a:stream/NAME`, or a consumer ARN
/// `…:stream/NAME/consumer/C:123`).
pub(crate) fn stream_name_from_arn(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:")?;
    let resource = rest.splitn(5, ':').nth(4)?;
    let name = resource.strip_prefix("stream/")?;
    Some(name.split('/').next().unwrap_or(name).to_string())
}

/// The consumer name of a consumer ARN.
pub(crate) fn consumer_name_from_arn(arn: &str) -> Option<String> {
    let (_, after) = arn.split_once("/consumer/")?;
    Some(after.split(':').next().unwrap_or(after).to_string())
}

/// A JSON number, or a string holding one (CloudFormation accepts both).
fn as_u64(v: &Value, source: &str) -> Result<u64, DeployError> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| DeployError::BadValue {
        location: source.to_string(),
        problem: format!("expected a whole number, got {v}"),
    })
}

fn as_i64(v: &Value, source: &str) -> Result<i64, DeployError> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| DeployError::BadValue {
        location: source.to_string(),
        problem: format!("expected a whole number, got {v}"),
    })
}

fn as_f64(v: &Value, source: &str) -> Result<f64, DeployError> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| DeployError::BadValue {
        location: source.to_string(),
        problem: format!("expected a number, got {v}"),
    })
}

fn as_bool(v: &Value, source: &str) -> Result<bool, DeployError> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
    .ok_or_else(|| DeployError::BadValue {
        location: source.to_string(),
        problem: format!("expected true or false, got {v}"),
    })
}

fn as_string(v: &Value, source: &str) -> Result<String, DeployError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(DeployError::BadValue {
            location: source.to_string(),
            problem: format!("expected a string, got {v}"),
        }),
    }
}

/// A filter pattern given as JSON text or as an object, as compact JSON text.
fn pattern_text(v: &Value, source: &str) -> Result<String, DeployError> {
    let parsed = match v {
        Value::String(s) => serde_json::from_str::<Value>(s).map_err(|e| DeployError::BadValue {
            location: source.to_string(),
            problem: format!("the filter pattern is not valid JSON: {e}"),
        })?,
        Value::Object(_) => v.clone(),
        other => {
            return Err(DeployError::BadValue {
                location: source.to_string(),
                problem: format!("expected a filter pattern, got {other}"),
            })
        }
    };
    Ok(parsed.to_string())
}

/// String-valued environment variables (numbers and booleans written as text, as Lambda does).
fn environment(v: &Value, source: &str) -> Result<BTreeMap<String, String>, DeployError> {
    let Value::Object(m) = v else {
        return Err(DeployError::BadValue {
            location: source.to_string(),
            problem: format!("expected a map of variables, got {v}"),
        });
    };
    m.iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                other => {
                    return Err(DeployError::BadValue {
                        location: format!("{source}.{k}"),
                        problem: format!("expected a string, got {other}"),
                    })
                }
            };
            Ok((k.clone(), text))
        })
        .collect()
}

/// Warnings for an on-failure destination kinlocal cannot write to.
fn destination_warning(arn: &str) -> String {
    let kind = arn.split(':').nth(2).unwrap_or("");
    let hint = match kind {
        "s3" => "pass --on-failure DIR to get the same S3-shaped object as files",
        "sqs" | "sns" => {
            "pass --on-failure DIR or --on-failure stream:NAME to keep the on-failure records locally"
        }
        _ => "pass --on-failure DIR or stream:NAME",
    };
    format!("the on-failure destination {arn} is not reachable locally; discarded records are only reported unless you {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_come_from_stream_and_consumer_arns() {
        assert_eq!(
            stream_name_from_arn("arn:aws:kinesis:us-east-1:123:stream/orders").as_deref(),
            Some("orders")
        );
        let consumer = "arn:aws:kinesis:us-east-1:123:stream/orders/consumer/app:1700000000";
        assert_eq!(stream_name_from_arn(consumer).as_deref(), Some("orders"));
        assert_eq!(consumer_name_from_arn(consumer).as_deref(), Some("app"));
        assert_eq!(stream_name_from_arn("arn:aws:sqs:us-east-1:123:q"), None);
        assert_eq!(stream_name_from_arn("orders"), None);
    }
}
