//! Terraform (`.tf` files, or a directory of them): `aws_lambda_function` and the
//! `aws_lambda_event_source_mapping` naming it. Expressions are evaluated with `hcl-rs` against
//! what kinlocal can know: `var.*` defaults, `locals`, the attributes of the resources in the
//! files (plus the ARNs AWS would give them), `data.aws_region`/`data.aws_caller_identity`, and
//! `jsonencode` for filter patterns.

use std::path::{Path, PathBuf};

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use serde_json::{Map, Value};

use super::{
    as_bool, as_i64, as_string, as_u64, consumer_name_from_arn, destination_warning, environment, file_label,
    pattern_text, stream_name_from_arn, DeployError, Format, ResolvedMapping, Sourced, ACCOUNT_ID, REGION,
};

/// Mapping arguments kinlocal reads.
const ESM_KEYS: &[&str] = &[
    "event_source_arn",
    "function_name",
    "batch_size",
    "maximum_batching_window_in_seconds",
    "starting_position",
    "starting_position_timestamp",
    "parallelization_factor",
    "maximum_retry_attempts",
    "maximum_record_age_in_seconds",
    "bisect_batch_on_function_error",
    "function_response_types",
    "tumbling_window_in_seconds",
    "filter_criteria",
    "destination_config",
    "enabled",
];

/// One `resource "TYPE" "NAME"` block.
struct Resource {
    kind: String,
    name: String,
    body: hcl::Body,
    file: String,
}

fn read_files(path: &Path) -> Result<Vec<(String, String)>, DeployError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| DeployError::Read {
            path: p.to_path_buf(),
            reason: e.to_string(),
        })
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| DeployError::Read {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tf"))
            .collect();
        files.sort();
        files.iter().map(|p| Ok((file_label(p), read(p)?))).collect()
    } else {
        Ok(vec![(file_label(path), read(path)?)])
    }
}

fn jsonencode(args: FuncArgs) -> Result<hcl::Value, String> {
    let v = args.into_values().into_iter().next().unwrap_or(hcl::Value::Null);
    serde_json::to_string(&v)
        .map(hcl::Value::String)
        .map_err(|e| e.to_string())
}

fn to_json(v: &hcl::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn to_hcl(v: &Value) -> hcl::Value {
    hcl::to_value(v).unwrap_or(hcl::Value::Null)
}

/// Evaluates a body: attributes by name, nested blocks as lists of objects. What cannot be
/// evaluated is left out and reported.
fn body_json(
    body: &hcl::Body,
    ctx: &Context<'_>,
    at: &str,
    problems: &mut Vec<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for attr in body.attributes() {
        match attr.expr().evaluate(ctx) {
            Ok(v) => {
                out.insert(attr.key().to_string(), to_json(&v));
            }
            Err(e) => problems.push(format!("{at}.{}: cannot be resolved locally ({e})", attr.key())),
        }
    }
    for block in body.blocks() {
        let inner = body_json(
            block.body(),
            ctx,
            &format!("{at}.{}", block.identifier()),
            problems,
        );
        let slot = out
            .entry(block.identifier().to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = slot {
            items.push(Value::Object(inner));
        }
    }
    out
}

/// Adds the attributes AWS computes (ARNs) to a resource's own.
fn computed(kind: &str, attrs: &mut Map<String, Value>) {
    let text = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let arn = match kind {
        "aws_kinesis_stream" => {
            text(attrs, "name").map(|n| format!("arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{n}"))
        }
        "aws_kinesis_stream_consumer" => match (text(attrs, "stream_arn"), text(attrs, "name")) {
            (Some(s), Some(n)) => Some(format!("{s}/consumer/{n}:0")),
            _ => None,
        },
        "aws_lambda_function" => {
            text(attrs, "function_name").map(|n| format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{n}"))
        }
        "aws_sqs_queue" => text(attrs, "name").map(|n| format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{n}")),
        "aws_sns_topic" => text(attrs, "name").map(|n| format!("arn:aws:sns:{REGION}:{ACCOUNT_ID}:{n}")),
        "aws_s3_bucket" => text(attrs, "bucket").map(|n| format!("arn:aws:s3:::{n}")),
        _ => None,
    };
    if let Some(a) = arn {
        attrs.entry("arn").or_insert_with(|| a.clone().into());
        attrs.entry("id").or_insert_with(|| a.into());
    }
}

/// Resolves `function` in Terraform files.
pub(super) fn load(
    path: &Path,
    function: &str,
    stream: Option<&str>,
) -> Result<ResolvedMapping, DeployError> {
    let mut resources = Vec::new();
    let mut variables = Map::new();
    let mut locals: Vec<(hcl::Attribute, String)> = Vec::new();
    for (file, text) in read_files(path)? {
        let body = hcl::parse(&text).map_err(|e| DeployError::Syntax {
            path: path.join(&file),
            reason: e.to_string(),
        })?;
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels().iter().map(hcl::BlockLabel::as_str).collect();
            match (block.identifier(), labels.as_slice()) {
                ("resource", [kind, name]) => resources.push(Resource {
                    kind: (*kind).to_string(),
                    name: (*name).to_string(),
                    body: block.body().clone(),
                    file: file.clone(),
                }),
                ("variable", [name]) => {
                    if let Some(d) = block.body().attributes().find(|a| a.key() == "default") {
                        if let Ok(v) = d.expr().evaluate(&Context::new()) {
                            variables.insert((*name).to_string(), to_json(&v));
                        }
                    }
                }
                ("locals", []) => {
                    for a in block.body().attributes() {
                        locals.push((a.clone(), file.clone()));
                    }
                }
                _ => {}
            }
        }
    }

    // Build what expressions may refer to, in a few rounds so references between resources
    // (a consumer's stream_arn, a mapping's function) settle.
    let mut known: Map<String, Value> = Map::new();
    let mut local_values = Map::new();
    let mut problems = Vec::new();
    for round in 0..3 {
        let mut ctx = Context::new();
        ctx.declare_func(
            "jsonencode",
            FuncDef::builder().param(ParamType::Any).build(jsonencode),
        );
        ctx.declare_var("var", to_hcl(&Value::Object(variables.clone())));
        ctx.declare_var("local", to_hcl(&Value::Object(local_values.clone())));
        ctx.declare_var(
            "data",
            to_hcl(&serde_json::json!({
                "aws_region": {"current": {"name": REGION, "region": REGION, "id": REGION}},
                "aws_caller_identity": {"current": {"account_id": ACCOUNT_ID}},
                "aws_partition": {"current": {"partition": "aws"}},
            })),
        );
        for (kind, by_name) in &known {
            ctx.declare_var(kind.as_str(), to_hcl(by_name));
        }
        let last = round == 2;
        let mut sink = Vec::new();
        let report = if last { &mut problems } else { &mut sink };
        for (attr, file) in &locals {
            match attr.expr().evaluate(&ctx) {
                Ok(v) => {
                    local_values.insert(attr.key().to_string(), to_json(&v));
                }
                Err(e) => report.push(format!(
                    "{file}: local.{}: cannot be resolved locally ({e})",
                    attr.key()
                )),
            }
        }
        for r in &resources {
            let at = format!("{}: {}.{}", r.file, r.kind, r.name);
            let mut attrs = body_json(&r.body, &ctx, &at, &mut sink);
            computed(&r.kind, &mut attrs);
            let slot = known
                .entry(r.kind.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = slot {
                m.insert(r.name.clone(), Value::Object(attrs));
            }
        }
    }
    let mut ctx = Context::new();
    ctx.declare_func(
        "jsonencode",
        FuncDef::builder().param(ParamType::Any).build(jsonencode),
    );
    ctx.declare_var("var", to_hcl(&Value::Object(variables)));
    ctx.declare_var("local", to_hcl(&Value::Object(local_values)));
    for (kind, by_name) in &known {
        ctx.declare_var(kind.as_str(), to_hcl(by_name));
    }

    let attrs_of = |kind: &str, name: &str| {
        known
            .get(kind)
            .and_then(|m| m.get(name))
            .and_then(Value::as_object)
    };
    let functions: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.kind == "aws_lambda_function")
        .collect();
    let fn_name_of = |r: &Resource| {
        attrs_of(&r.kind, &r.name)
            .and_then(|a| a.get("function_name"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let Some(func) = functions
        .iter()
        .find(|r| r.name == function || fn_name_of(r).as_deref() == Some(function))
    else {
        return Err(DeployError::NoFunction {
            path: path.to_path_buf(),
            name: function.to_string(),
            found: functions
                .iter()
                .map(|r| format!("aws_lambda_function.{}", r.name))
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let mut out = ResolvedMapping {
        format: Some(Format::Terraform),
        ..ResolvedMapping::default()
    };
    let fn_at = format!("{}: aws_lambda_function.{}", func.file, func.name);
    let fattrs = attrs_of(&func.kind, &func.name).cloned().unwrap_or_default();
    let fn_name = fn_name_of(func).unwrap_or_else(|| func.name.clone());
    out.function_name = Some(Sourced {
        value: fn_name.clone(),
        source: format!("{fn_at}.function_name"),
    });
    let fget = |k: &str| fattrs.get(k).map(|v| (v, format!("{fn_at}.{k}")));
    if let Some((v, source)) = fget("handler") {
        out.handler = Some(Sourced {
            value: as_string(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = fget("runtime") {
        out.runtime = Some(Sourced {
            value: as_string(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = fget("timeout") {
        out.timeout_secs = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = fget("memory_size") {
        out.memory_size = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some(vars) = fattrs
        .get("environment")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("variables"))
    {
        let source = format!("{fn_at}.environment.variables");
        out.environment = Some(Sourced {
            value: environment(vars, &source)?,
            source,
        });
    }

    let fn_arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{fn_name}");
    let mut candidates: Vec<(&Resource, Map<String, Value>)> = Vec::new();
    for r in resources
        .iter()
        .filter(|r| r.kind == "aws_lambda_event_source_mapping")
    {
        let at = format!("{}: {}.{}", r.file, r.kind, r.name);
        let attrs = body_json(&r.body, &ctx, &at, &mut out.warnings);
        let names_fn = attrs
            .get("function_name")
            .and_then(Value::as_str)
            .is_some_and(|f| f == fn_name || f == fn_arn || f == func.name);
        let kinesis = attrs
            .get("event_source_arn")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("arn:aws:kinesis:"));
        if names_fn && kinesis {
            candidates.push((r, attrs));
        }
    }
    let count = candidates.len();
    let stream_of = |attrs: &Map<String, Value>| {
        attrs
            .get("event_source_arn")
            .and_then(Value::as_str)
            .and_then(stream_name_from_arn)
            .unwrap_or_default()
    };
    let names: Vec<String> = candidates.iter().map(|(_, a)| stream_of(a)).collect();
    let (esm, attrs) = match (count, stream) {
        (0, _) => {
            out.warnings.extend(problems);
            return Err(DeployError::NoKinesisSource {
                path: path.to_path_buf(),
                name: function.to_string(),
            });
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
    let at = format!("{}: {}.{}", esm.file, esm.kind, esm.name);
    let get = |k: &str| attrs.get(k).map(|v| (v, format!("{at}.{k}")));
    if let Some((v, source)) = get("event_source_arn") {
        let arn = as_string(v, &source)?;
        if let Some(c) = consumer_name_from_arn(&arn) {
            out.consumer = Some(Sourced {
                value: c,
                source: source.clone(),
            });
        }
        out.stream = Some(Sourced {
            value: stream_name_from_arn(&arn).unwrap_or(arn),
            source,
        });
    }
    if let Some((v, source)) = get("batch_size") {
        out.batch_size = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("maximum_batching_window_in_seconds") {
        out.maximum_batching_window_secs = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("starting_position") {
        out.starting_position = Some(Sourced {
            value: as_string(v, &source)?.to_ascii_uppercase(),
            source,
        });
    }
    if let Some((v, source)) = get("starting_position_timestamp") {
        // Terraform writes it as an RFC 3339 string; the API takes Unix seconds.
        let text = as_string(v, &source)?;
        let secs = humantime::parse_rfc3339_weak(&text)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
            .ok_or_else(|| DeployError::BadValue {
                location: source.clone(),
                problem: format!("expected an RFC 3339 time, got {text}"),
            })?;
        out.starting_position_timestamp = Some(Sourced { value: secs, source });
    }
    if let Some((v, source)) = get("parallelization_factor") {
        out.parallelization_factor = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("maximum_retry_attempts") {
        out.maximum_retry_attempts = Some(Sourced {
            value: as_i64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("maximum_record_age_in_seconds") {
        out.maximum_record_age_secs = Some(Sourced {
            value: as_i64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("bisect_batch_on_function_error") {
        out.bisect_batch_on_function_error = Some(Sourced {
            value: as_bool(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("function_response_types") {
        let list = v.as_array().cloned().unwrap_or_default();
        out.report_batch_item_failures = Some(Sourced {
            value: list.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures")),
            source,
        });
    }
    if let Some((v, source)) = get("tumbling_window_in_seconds") {
        out.tumbling_window_secs = Some(Sourced {
            value: as_u64(v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("filter_criteria") {
        let filters = v
            .get(0)
            .and_then(|c| c.get("filter"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let patterns = filters
            .iter()
            .enumerate()
            .map(|(i, f)| {
                pattern_text(
                    f.get("pattern").unwrap_or(&Value::Null),
                    &format!("{source}.filter[{i}].pattern"),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.filter_patterns = Some(Sourced {
            value: patterns,
            source,
        });
    }
    if let Some((v, source)) = get("destination_config") {
        if let Some(arn) = v
            .get(0)
            .and_then(|d| d.get("on_failure"))
            .and_then(|o| o.get(0))
            .and_then(|o| o.get("destination_arn"))
        {
            let arn = as_string(arn, &source)?;
            out.warnings.push(destination_warning(&arn));
            out.on_failure_destination = Some(Sourced {
                value: arn,
                source: format!("{source}.on_failure.destination_arn"),
            });
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
    for k in attrs.keys() {
        if !ESM_KEYS.contains(&k.as_str()) {
            out.warnings
                .push(format!("{at}.{k} is not emulated locally and is ignored"));
        }
    }
    out.warnings.extend(problems);
    Ok(out)
}
