//! The Serverless Framework's `serverless.yml`: `functions.NAME` (with `provider` defaults) and
//! its `events[].stream` (a stream ARN, or an object with `arn` and the camelCase settings);
//! `${self:…}`, `${sls:stage}`, `${opt:…, default}` and `${aws:region}` variables; the ARN may
//! be a CloudFormation intrinsic on a resource of `resources.Resources`.

use std::path::Path;

use serde_json::{Map, Value};

use super::cloudformation::Resolver;
use super::{
    as_bool, as_f64, as_i64, as_string, as_u64, consumer_name_from_arn, destination_warning, environment,
    file_label, pattern_text, stream_name_from_arn, DeployError, Format, ResolvedMapping, Sourced,
    ACCOUNT_ID, REGION,
};

/// Settings of a `stream` event kinlocal reads.
const STREAM_KEYS: &[&str] = &[
    "type",
    "arn",
    "batchSize",
    "batchWindow",
    "startingPosition",
    "startingPositionTimestamp",
    "maximumRetryAttempts",
    "maximumRecordAgeInSeconds",
    "parallelizationFactor",
    "bisectBatchOnFunctionError",
    "functionResponseType",
    "tumblingWindowInSeconds",
    "filterPatterns",
    "destinations",
    "consumer",
    "enabled",
];

/// Replaces the variables kinlocal can know in every string of the document.
fn substitute(doc: &Value, v: &Value, warnings: &mut Vec<String>) -> Value {
    match v {
        Value::String(s) if s.contains("${") => {
            // A string that is only a variable takes the variable's value and type.
            if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                if !inner.contains("${") {
                    if let Some(val) = variable(doc, inner) {
                        return substitute(doc, &val, warnings);
                    }
                }
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(at) = rest.find("${") {
                out.push_str(&rest[..at]);
                let after = &rest[at + 2..];
                let Some(end) = after.find('}') else {
                    out.push_str(&rest[at..]);
                    rest = "";
                    break;
                };
                let name = &after[..end];
                match variable(doc, name) {
                    Some(Value::String(t)) => out.push_str(&t),
                    Some(other) => out.push_str(&other.to_string()),
                    None => {
                        warnings.push(format!("variable ${{{name}}} cannot be resolved locally"));
                        out.push_str(&rest[at..at + 3 + end]);
                    }
                }
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| substitute(doc, i, warnings)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), substitute(doc, v, warnings)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn stage(doc: &Value) -> Value {
    doc.pointer("/provider/stage")
        .cloned()
        .unwrap_or_else(|| "dev".into())
}

/// The value of one variable (`self:custom.x`, `sls:stage`, `opt:stage, 'dev'`, `aws:region`).
fn variable(doc: &Value, name: &str) -> Option<Value> {
    let (main, fallback) = match name.split_once(',') {
        Some((m, f)) => (m.trim(), Some(f.trim())),
        None => (name.trim(), None),
    };
    let found = if let Some(path) = main.strip_prefix("self:") {
        let pointer = format!("/{}", path.replace('.', "/"));
        doc.pointer(&pointer).cloned()
    } else {
        match main {
            "sls:stage" | "opt:stage" => Some(stage(doc)),
            "aws:region" | "opt:region" => Some(
                doc.pointer("/provider/region")
                    .cloned()
                    .unwrap_or_else(|| REGION.into()),
            ),
            "aws:accountId" => Some(ACCOUNT_ID.into()),
            _ => None,
        }
    };
    found.or_else(|| {
        let f = fallback?;
        let unquoted = f.trim_matches(|c| c == '\'' || c == '"');
        if unquoted.len() + 2 == f.len() {
            Some(Value::String(unquoted.to_string()))
        } else {
            variable(doc, f)
        }
    })
}

/// Resolves `function` in a `serverless.yml`.
pub(super) fn resolve(
    path: &Path,
    raw: &Value,
    function: &str,
    stream: Option<&str>,
) -> Result<ResolvedMapping, DeployError> {
    let file = file_label(path);
    let mut out = ResolvedMapping {
        format: Some(Format::Serverless),
        ..ResolvedMapping::default()
    };
    let doc = substitute(raw, raw, &mut out.warnings);
    let empty = Map::new();
    let functions = doc.get("functions").and_then(Value::as_object).unwrap_or(&empty);
    let service = doc.get("service").and_then(Value::as_str).unwrap_or("service");
    let stage = stage(&doc);
    let stage = stage.as_str().unwrap_or("dev");
    let deployed_name = |key: &str, f: &Value| {
        f.get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{service}-{stage}-{key}"), str::to_string)
    };
    let Some((key, f)) = functions
        .iter()
        .find(|(k, f)| k.as_str() == function || deployed_name(k, f) == function)
    else {
        return Err(DeployError::NoFunction {
            path: path.to_path_buf(),
            name: function.to_string(),
            found: functions.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    };
    let fn_path = format!("{file}: functions.{key}");
    out.function_name = Some(Sourced {
        value: deployed_name(key, f),
        source: if f.get("name").is_some() {
            format!("{fn_path}.name")
        } else {
            format!("{fn_path} (Serverless names it SERVICE-STAGE-FUNCTION)")
        },
    });
    let provider = doc.get("provider");
    let pick = |k: &str| {
        f.get(k).map(|v| (v, format!("{fn_path}.{k}"))).or_else(|| {
            provider
                .and_then(|p| p.get(k))
                .map(|v| (v, format!("{file}: provider.{k}")))
        })
    };
    if let Some((v, source)) = pick("handler") {
        out.handler = Some(Sourced {
            value: as_string(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = pick("runtime") {
        out.runtime = Some(Sourced {
            value: as_string(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = pick("timeout") {
        out.timeout_secs = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = pick("memorySize") {
        out.memory_size = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    let mut vars = std::collections::BTreeMap::new();
    let mut sources = Vec::new();
    for (env, source) in [
        (
            provider.and_then(|p| p.get("environment")),
            format!("{file}: provider.environment"),
        ),
        (f.get("environment"), format!("{fn_path}.environment")),
    ] {
        if let Some(e) = env {
            vars.extend(environment(e, &source)?);
            sources.push(source);
        }
    }
    if !sources.is_empty() {
        out.environment = Some(Sourced {
            value: vars,
            source: sources.join(" + "),
        });
    }

    let cfn = serde_json::json!({
        "Resources": doc.pointer("/resources/Resources").cloned().unwrap_or(Value::Object(Map::new()))
    });
    let r = Resolver::new(&cfn);
    let resolve = |v: &Value, source: &str| {
        r.resolve(v).map_err(|problem| DeployError::BadValue {
            location: source.to_string(),
            problem,
        })
    };
    let mut candidates = Vec::new();
    for (i, ev) in f
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(s) = ev.get("stream") else { continue };
        let source = format!("{fn_path}.events[{i}].stream");
        let (arn_value, settings) = match s {
            Value::Object(m) if m.contains_key("arn") => {
                (m.get("arn").cloned().unwrap_or(Value::Null), Some(m))
            }
            other => (other.clone(), None),
        };
        let arn = as_string(&resolve(&arn_value, &source)?, &source)?;
        let is_kinesis = match settings.and_then(|m| m.get("type")).and_then(Value::as_str) {
            Some(t) => t == "kinesis",
            None => arn.starts_with("arn:aws:kinesis:"),
        };
        if is_kinesis {
            candidates.push((arn, settings, source));
        }
    }
    let count = candidates.len();
    let names: Vec<String> = candidates
        .iter()
        .map(|(arn, _, _)| stream_name_from_arn(arn).unwrap_or_else(|| arn.clone()))
        .collect();
    let chosen = match (count, stream) {
        (0, _) => {
            return Err(DeployError::NoKinesisSource {
                path: path.to_path_buf(),
                name: function.to_string(),
            })
        }
        (1, _) => candidates.swap_remove(0),
        (_, Some(s)) if names.iter().any(|n| n == s) => {
            let i = names.iter().position(|n| n == s).unwrap_or(0);
            candidates.swap_remove(i)
        }
        _ => {
            return Err(DeployError::SeveralSources {
                path: path.to_path_buf(),
                name: function.to_string(),
                count,
                streams: names.join(", "),
            })
        }
    };
    let (arn, settings, base) = chosen;
    let arn_source = if settings.is_some() {
        format!("{base}.arn")
    } else {
        base.clone()
    };
    if let Some(c) = consumer_name_from_arn(&arn) {
        out.consumer = Some(Sourced {
            value: c,
            source: arn_source.clone(),
        });
    }
    out.stream = Some(Sourced {
        value: stream_name_from_arn(&arn).unwrap_or(arn),
        source: arn_source,
    });
    let settings = settings.cloned().unwrap_or_default();
    let get = |k: &str| settings.get(k).map(|v| (v, format!("{base}.{k}")));
    // Serverless's own defaults differ from Lambda's: say so when they apply.
    let default = format!("Serverless Framework default (not set in {file})");
    out.batch_size = Some(match get("batchSize") {
        Some((v, source)) => Sourced {
            value: as_u64(v, &source)?,
            source,
        },
        None => Sourced {
            value: 10,
            source: default.clone(),
        },
    });
    out.starting_position = Some(match get("startingPosition") {
        Some((v, source)) => Sourced {
            value: as_string(v, &source)?.to_ascii_uppercase(),
            source,
        },
        None => Sourced {
            value: "TRIM_HORIZON".into(),
            source: default,
        },
    });
    if let Some((v, source)) = get("batchWindow") {
        out.maximum_batching_window_secs = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("startingPositionTimestamp") {
        out.starting_position_timestamp = Some(Sourced {
            value: as_f64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("parallelizationFactor") {
        out.parallelization_factor = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("maximumRetryAttempts") {
        out.maximum_retry_attempts = Some(Sourced {
            value: as_i64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("maximumRecordAgeInSeconds") {
        out.maximum_record_age_secs = Some(Sourced {
            value: as_i64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("bisectBatchOnFunctionError") {
        out.bisect_batch_on_function_error = Some(Sourced {
            value: as_bool(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("functionResponseType") {
        out.report_batch_item_failures = Some(Sourced {
            value: as_string(v, &source)? == "ReportBatchItemFailures",
            source,
        });
    }
    if let Some((v, source)) = get("tumblingWindowInSeconds") {
        out.tumbling_window_secs = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("filterPatterns") {
        let items = v.as_array().ok_or_else(|| DeployError::BadValue {
            location: source.clone(),
            problem: "expected a list of patterns".into(),
        })?;
        let patterns = items
            .iter()
            .enumerate()
            .map(|(i, p)| pattern_text(p, &format!("{source}[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        out.filter_patterns = Some(Sourced {
            value: patterns,
            source,
        });
    }
    if let Some((v, source)) = get("destinations") {
        if let Some(d) = v.get("onFailure") {
            let source = format!("{source}.onFailure");
            let arn_value = match d {
                Value::Object(m) => m.get("arn").cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            let arn = as_string(&resolve(&arn_value, &source)?, &source)?;
            out.warnings.push(destination_warning(&arn));
            out.on_failure_destination = Some(Sourced { value: arn, source });
        }
    }
    if let Some((v, source)) = get("consumer") {
        match resolve(v, &source)? {
            Value::Bool(true) => {
                // Serverless registers a consumer named after the function.
                out.consumer = Some(Sourced {
                    value: format!("{key}Consumer"),
                    source,
                });
            }
            Value::String(arn) => {
                if let Some(c) = consumer_name_from_arn(&arn) {
                    out.consumer = Some(Sourced { value: c, source });
                }
            }
            _ => {}
        }
    }
    if let Some((v, source)) = get("enabled") {
        let enabled = as_bool(v, &source)?;
        if !enabled {
            out.warnings.push(format!(
                "{source} is false: on AWS this mapping would not poll; kinlocal consumes anyway"
            ));
        }
        out.enabled = Some(Sourced {
            value: enabled,
            source,
        });
    }
    for k in settings.keys() {
        if !STREAM_KEYS.contains(&k.as_str()) {
            out.warnings
                .push(format!("{base}.{k} is not emulated locally and is ignored"));
        }
    }
    out.warnings.extend(r.notes.borrow().iter().cloned());
    Ok(out)
}
