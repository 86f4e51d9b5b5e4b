//! AWS SAM and CloudFormation templates (YAML with the short intrinsic tags, or JSON): the
//! function (`AWS::Serverless::Function` / `AWS::Lambda::Function`, with SAM's `Globals`), its
//! Kinesis mappings (`Events: {Type: Kinesis}` or `AWS::Lambda::EventSourceMapping`), and the
//! intrinsic functions that name streams (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
//! `Fn::Select`, `Fn::Split`, parameters' defaults, pseudo parameters). The Serverless
//! Framework's `resources:` section is CloudFormation too and uses the same resolver.

use std::cell::RefCell;
use std::path::Path;

use serde_json::{Map, Value};

use super::{
    as_bool, as_f64, as_i64, as_string, as_u64, consumer_name_from_arn, destination_warning, environment,
    file_label, pattern_text, stream_name_from_arn, DeployError, Format, ResolvedMapping, Sourced,
    ACCOUNT_ID, REGION,
};

/// Parses YAML (a superset of JSON), turning the short intrinsic tags into their long form
/// (`!Ref X` → `{"Ref": "X"}`, `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` →
/// `{"Fn::Sub": s}`, …).
pub(super) fn parse_yaml_or_json(text: &str) -> Result<Value, String> {
    let y: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    Ok(yaml_to_json(y))
}

fn yaml_to_json(y: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match yaml_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            let inner = yaml_to_json(t.value);
            let (key, value) = match name.as_str() {
                "Ref" | "Condition" => (name, inner),
                "GetAtt" => {
                    let v = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((a, b)) => Value::Array(vec![a.into(), b.into()]),
                            None => Value::String(s),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), v)
                }
                _ => (format!("Fn::{name}"), inner),
            };
            let mut m = Map::new();
            m.insert(key, value);
            Value::Object(m)
        }
    }
}

/// Resolves intrinsic functions against a template's resources and parameters.
pub(super) struct Resolver<'t> {
    resources: &'t Map<String, Value>,
    parameters: Option<&'t Map<String, Value>>,
    /// Notes made while resolving (a stream without a `Name`, …).
    pub(super) notes: RefCell<Vec<String>>,
}

impl<'t> Resolver<'t> {
    pub(super) fn new(doc: &'t Value) -> Self {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let resources = doc
            .get("Resources")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new));
        Self {
            resources,
            parameters: doc.get("Parameters").and_then(Value::as_object),
            notes: RefCell::new(Vec::new()),
        }
    }

    fn resource(&self, id: &str) -> Option<(&'t str, &'t Value)> {
        let r = self.resources.get(id)?;
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or("");
        Some((ty, r.get("Properties").unwrap_or(&Value::Null)))
    }

    /// A named resource's name: its name property, else its logical id.
    fn name_of(&self, id: &str, prop: &str) -> Result<String, String> {
        let (_, props) = self.resource(id).ok_or_else(|| format!("no resource {id}"))?;
        match props.get(prop) {
            Some(v) => match self.resolve(v)? {
                Value::String(s) => Ok(s),
                other => Err(format!("{id}.{prop} is not a string: {other}")),
            },
            None => {
                self.notes.borrow_mut().push(format!(
                    "{id} has no {prop}: CloudFormation would generate one; kinlocal uses \"{id}\" (or pass --stream)"
                ));
                Ok(id.to_string())
            }
        }
    }

    fn reference(&self, name: &str) -> Result<Value, String> {
        match name {
            "AWS::Region" => return Ok(REGION.into()),
            "AWS::AccountId" => return Ok(ACCOUNT_ID.into()),
            "AWS::Partition" => return Ok("aws".into()),
            "AWS::StackName" => return Ok("kinlocal".into()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            _ => {}
        }
        if let Some(p) = self.parameters.and_then(|p| p.get(name)) {
            return match p.get("Default") {
                Some(d) => self.resolve(d),
                None => Err(format!("parameter {name} has no Default")),
            };
        }
        let (ty, _) = self
            .resource(name)
            .ok_or_else(|| format!("Ref {name}: no such parameter or resource"))?;
        match ty {
            "AWS::Kinesis::Stream" => self.name_of(name, "Name").map(Value::String),
            "AWS::Lambda::Function" | "AWS::Serverless::Function" => {
                self.name_of(name, "FunctionName").map(Value::String)
            }
            "AWS::Kinesis::StreamConsumer" | "AWS::SNS::Topic" => self.get_att(name, "Arn"),
            "AWS::S3::Bucket" => self.name_of(name, "BucketName").map(Value::String),
            _ => Ok(Value::String(name.to_string())),
        }
    }

    fn get_att(&self, id: &str, attr: &str) -> Result<Value, String> {
        let (ty, props) = self
            .resource(id)
            .ok_or_else(|| format!("Fn::GetAtt {id}.{attr}: no such resource"))?;
        let arn = |service: &str, resource: String| {
            Value::String(format!("arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"))
        };
        Ok(match (ty, attr) {
            ("AWS::Kinesis::Stream", "Arn") => {
                arn("kinesis", format!("stream/{}", self.name_of(id, "Name")?))
            }
            ("AWS::Kinesis::StreamConsumer", "ConsumerARN" | "Arn") => {
                let stream_arn = match props.get("StreamARN") {
                    Some(v) => as_text(&self.resolve(v)?)?,
                    None => return Err(format!("{id} has no StreamARN")),
                };
                let name = match props.get("ConsumerName") {
                    Some(v) => as_text(&self.resolve(v)?)?,
                    None => id.to_string(),
                };
                Value::String(format!("{stream_arn}/consumer/{name}:0"))
            }
            ("AWS::Kinesis::StreamConsumer", "ConsumerName") => match props.get("ConsumerName") {
                Some(v) => self.resolve(v)?,
                None => Value::String(id.to_string()),
            },
            ("AWS::Lambda::Function" | "AWS::Serverless::Function", "Arn") => arn(
                "lambda",
                format!("function:{}", self.name_of(id, "FunctionName")?),
            ),
            ("AWS::SQS::Queue", "Arn") => arn("sqs", self.name_of(id, "QueueName")?),
            ("AWS::SNS::Topic", "TopicArn" | "Arn") => arn("sns", self.name_of(id, "TopicName")?),
            ("AWS::S3::Bucket", "Arn") => {
                Value::String(format!("arn:aws:s3:::{}", self.name_of(id, "BucketName")?))
            }
            _ => {
                return Err(format!(
                    "Fn::GetAtt {id}.{attr} ({ty}) cannot be resolved locally"
                ))
            }
        })
    }

    fn sub(&self, template: &str, vars: Option<&Map<String, Value>>) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("Fn::Sub: unclosed ${{ in {template}"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.and_then(|m| m.get(name)) {
                out.push_str(&as_text(&self.resolve(v)?)?);
            } else if let Some((res, attr)) = name.split_once('.').filter(|_| !name.starts_with("AWS::")) {
                out.push_str(&as_text(&self.get_att(res, attr)?)?);
            } else {
                out.push_str(&as_text(&self.reference(name)?)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Resolves every intrinsic in `v`.
    pub(super) fn resolve(&self, v: &Value) -> Result<Value, String> {
        match v {
            Value::Object(m) if m.len() == 1 => {
                let Some((k, arg)) = m.iter().next() else {
                    return Ok(v.clone());
                };
                match k.as_str() {
                    "Ref" => self.reference(&as_text(arg)?),
                    "Fn::GetAtt" => {
                        let (id, attr) = match arg {
                            Value::Array(a) if a.len() == 2 => {
                                (as_text(&a[0])?, as_text(&self.resolve(&a[1])?)?)
                            }
                            Value::String(s) => match s.split_once('.') {
                                Some((a, b)) => (a.to_string(), b.to_string()),
                                None => return Err(format!("Fn::GetAtt {s}: expected Resource.Attribute")),
                            },
                            other => return Err(format!("Fn::GetAtt: unexpected {other}")),
                        };
                        self.get_att(&id, &attr)
                    }
                    "Fn::Sub" => match arg {
                        Value::String(s) => self.sub(s, None).map(Value::String),
                        Value::Array(a) if a.len() == 2 => {
                            self.sub(&as_text(&a[0])?, a[1].as_object()).map(Value::String)
                        }
                        other => Err(format!("Fn::Sub: unexpected {other}")),
                    },
                    "Fn::Join" => {
                        let Value::Array(a) = arg else {
                            return Err("Fn::Join expects [separator, [values]]".into());
                        };
                        let (Some(sep), Some(list)) = (a.first(), a.get(1)) else {
                            return Err("Fn::Join expects [separator, [values]]".into());
                        };
                        let sep = as_text(sep)?;
                        let Value::Array(items) = self.resolve(list)? else {
                            return Err("Fn::Join: the values must be a list".into());
                        };
                        let parts = items.iter().map(as_text).collect::<Result<Vec<_>, _>>()?;
                        Ok(Value::String(parts.join(&sep)))
                    }
                    "Fn::Select" => {
                        let Value::Array(a) = arg else {
                            return Err("Fn::Select expects [index, [values]]".into());
                        };
                        let idx = a
                            .first()
                            .map(|i| self.resolve(i))
                            .transpose()?
                            .and_then(|i| as_text(&i).ok())
                            .and_then(|i| i.parse::<usize>().ok())
                            .ok_or("Fn::Select: bad index")?;
                        let list = a.get(1).map(|l| self.resolve(l)).transpose()?;
                        list.as_ref()
                            .and_then(|l| l.get(idx))
                            .cloned()
                            .ok_or_else(|| "Fn::Select: index out of range".to_string())
                    }
                    "Fn::Split" => {
                        let Value::Array(a) = arg else {
                            return Err("Fn::Split expects [separator, string]".into());
                        };
                        let sep = a.first().map(as_text).transpose()?.unwrap_or_default();
                        let text = a
                            .get(1)
                            .map(|s| self.resolve(s))
                            .transpose()?
                            .unwrap_or(Value::Null);
                        Ok(Value::Array(
                            as_text(&text)?
                                .split(sep.as_str())
                                .map(|s| Value::String(s.into()))
                                .collect(),
                        ))
                    }
                    other if other.starts_with("Fn::") => Err(format!("{other} cannot be resolved locally")),
                    _ => self.resolve_members(m),
                }
            }
            Value::Object(m) => self.resolve_members(m),
            Value::Array(items) => items
                .iter()
                .map(|i| self.resolve(i))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }

    fn resolve_members(&self, m: &Map<String, Value>) -> Result<Value, String> {
        m.iter()
            .map(|(k, v)| self.resolve(v).map(|r| (k.clone(), r)))
            .collect::<Result<Map<_, _>, _>>()
            .map(Value::Object)
    }
}

fn as_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a string, got {other}")),
    }
}

/// The ESM keys kinlocal reads (CloudFormation and SAM spell them alike, but for the stream).
const ESM_KEYS: &[&str] = &[
    "EventSourceArn",
    "Stream",
    "FunctionName",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "StartingPosition",
    "StartingPositionTimestamp",
    "ParallelizationFactor",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "FunctionResponseTypes",
    "TumblingWindowInSeconds",
    "FilterCriteria",
    "DestinationConfig",
    "Enabled",
];

/// One Kinesis mapping found for the function: its properties and where they are.
struct Candidate<'d> {
    props: &'d Map<String, Value>,
    path: String,
    stream_key: &'static str,
}

/// Resolves `function` in a SAM or CloudFormation template.
pub(super) fn resolve(
    path: &Path,
    doc: &Value,
    function: &str,
    stream: Option<&str>,
) -> Result<ResolvedMapping, DeployError> {
    let file = file_label(path);
    let r = Resolver::new(doc);
    let resources = r.resources;
    let is_function = |v: &Value| {
        matches!(
            v.get("Type").and_then(Value::as_str),
            Some("AWS::Serverless::Function" | "AWS::Lambda::Function")
        )
    };
    let name_prop = |id: &str| -> Option<String> {
        let v = resources.get(id)?.get("Properties")?.get("FunctionName")?;
        r.resolve(v).ok().and_then(|v| v.as_str().map(str::to_string))
    };
    let Some((fn_id, fn_res)) = resources
        .iter()
        .filter(|(_, v)| is_function(v))
        .find(|(id, _)| id.as_str() == function || name_prop(id).as_deref() == Some(function))
    else {
        let found: Vec<String> = resources
            .iter()
            .filter(|(_, v)| is_function(v))
            .map(|(id, _)| id.clone())
            .collect();
        return Err(DeployError::NoFunction {
            path: path.to_path_buf(),
            name: function.to_string(),
            found: if found.is_empty() {
                "none".into()
            } else {
                found.join(", ")
            },
        });
    };
    let is_sam = fn_res.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function");
    let mut out = ResolvedMapping {
        format: Some(if is_sam || doc.get("Transform").is_some() {
            Format::Sam
        } else {
            Format::CloudFormation
        }),
        ..ResolvedMapping::default()
    };
    let fn_path = format!("{file}: Resources.{fn_id}.Properties");
    let empty = Map::new();
    let props = fn_res
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let globals = doc
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(Value::as_object);
    let fn_name = name_prop(fn_id).unwrap_or_else(|| fn_id.clone());
    out.function_name = Some(Sourced {
        value: fn_name.clone(),
        source: if props.contains_key("FunctionName") {
            format!("{fn_path}.FunctionName")
        } else {
            format!("{file}: Resources.{fn_id} (logical id)")
        },
    });
    read_function(
        &r,
        props,
        globals,
        &fn_path,
        &format!("{file}: Globals.Function"),
        &mut out,
    )?;

    // Candidates: SAM events of type Kinesis, and ESM resources naming this function.
    let mut candidates = Vec::new();
    if let Some(events) = props.get("Events").and_then(Value::as_object) {
        for (ev_id, ev) in events {
            if ev.get("Type").and_then(Value::as_str) == Some("Kinesis") {
                if let Some(p) = ev.get("Properties").and_then(Value::as_object) {
                    candidates.push(Candidate {
                        props: p,
                        path: format!("{fn_path}.Events.{ev_id}.Properties"),
                        stream_key: "Stream",
                    });
                }
            }
        }
    }
    let fn_arn_suffix = format!(":function:{fn_name}");
    for (id, res) in resources {
        if res.get("Type").and_then(Value::as_str) != Some("AWS::Lambda::EventSourceMapping") {
            continue;
        }
        let Some(p) = res.get("Properties").and_then(Value::as_object) else {
            continue;
        };
        let names_fn = p.get("FunctionName").is_some_and(|f| {
            let direct = f.get("Ref").and_then(Value::as_str) == Some(fn_id.as_str())
                || f.get("Fn::GetAtt").and_then(|g| g.get(0)).and_then(Value::as_str) == Some(fn_id.as_str());
            direct
                || r.resolve(f)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .is_some_and(|s| s == fn_name || s == *fn_id || s.ends_with(&fn_arn_suffix))
        });
        let arn = p
            .get("EventSourceArn")
            .and_then(|a| r.resolve(a).ok())
            .and_then(|a| a.as_str().map(str::to_string))
            .unwrap_or_default();
        let kinesis = arn.starts_with("arn:aws:kinesis:")
            || p.contains_key("StartingPosition") && !arn.contains(":sqs:");
        if names_fn && kinesis {
            candidates.push(Candidate {
                props: p,
                path: format!("{file}: Resources.{id}.Properties"),
                stream_key: "EventSourceArn",
            });
        }
    }
    let chosen = choose(path, &fn_name, candidates, stream, |c| {
        c.props
            .get(c.stream_key)
            .and_then(|s| r.resolve(s).ok())
            .and_then(|s| {
                s.as_str()
                    .and_then(stream_name_from_arn)
                    .or_else(|| s.as_str().map(str::to_string))
            })
    })?;
    read_esm(&r, chosen.props, &chosen.path, chosen.stream_key, &mut out)?;
    out.warnings.extend(r.notes.borrow().iter().cloned());
    Ok(out)
}

/// Picks the one mapping: the only one, or the one on `stream`.
fn choose<C>(
    path: &Path,
    function: &str,
    candidates: Vec<C>,
    stream: Option<&str>,
    stream_of: impl Fn(&C) -> Option<String>,
) -> Result<C, DeployError> {
    let count = candidates.len();
    let names: Vec<String> = candidates
        .iter()
        .map(|c| stream_of(c).unwrap_or_else(|| "?".into()))
        .collect();
    let mut candidates = candidates;
    match (count, stream) {
        (0, _) => Err(DeployError::NoKinesisSource {
            path: path.to_path_buf(),
            name: function.to_string(),
        }),
        (1, _) => Ok(candidates.remove(0)),
        (_, Some(s)) => match names.iter().position(|n| n == s) {
            Some(i) => Ok(candidates.remove(i)),
            None => Err(DeployError::SeveralSources {
                path: path.to_path_buf(),
                name: function.to_string(),
                count,
                streams: names.join(", "),
            }),
        },
        (_, None) => Err(DeployError::SeveralSources {
            path: path.to_path_buf(),
            name: function.to_string(),
            count,
            streams: names.join(", "),
        }),
    }
}

/// A property of the function, or of SAM's `Globals.Function`.
fn fn_prop<'a>(
    props: &'a Map<String, Value>,
    globals: Option<&'a Map<String, Value>>,
    key: &str,
    fn_path: &str,
    globals_path: &str,
) -> Option<(&'a Value, String)> {
    props
        .get(key)
        .map(|v| (v, format!("{fn_path}.{key}")))
        .or_else(|| {
            globals
                .and_then(|g| g.get(key))
                .map(|v| (v, format!("{globals_path}.{key}")))
        })
}

fn resolved(r: &Resolver<'_>, v: &Value, source: &str) -> Result<Value, DeployError> {
    r.resolve(v).map_err(|problem| DeployError::BadValue {
        location: source.to_string(),
        problem,
    })
}

fn read_function(
    r: &Resolver<'_>,
    props: &Map<String, Value>,
    globals: Option<&Map<String, Value>>,
    fn_path: &str,
    globals_path: &str,
    out: &mut ResolvedMapping,
) -> Result<(), DeployError> {
    let get = |key: &str| fn_prop(props, globals, key, fn_path, globals_path);
    if let Some((v, source)) = get("Handler") {
        let value = as_string(&resolved(r, v, &source)?, &source)?;
        out.handler = Some(Sourced { value, source });
    }
    if let Some((v, source)) = get("Runtime") {
        let value = as_string(&resolved(r, v, &source)?, &source)?;
        out.runtime = Some(Sourced { value, source });
    }
    if let Some((v, source)) = get("Timeout") {
        let value = as_u64(&resolved(r, v, &source)?, &source)?;
        out.timeout_secs = Some(Sourced { value, source });
    }
    if let Some((v, source)) = get("MemorySize") {
        let value = as_u64(&resolved(r, v, &source)?, &source)?;
        out.memory_size = Some(Sourced { value, source });
    }
    // SAM merges the global variables with the function's own, the function's winning.
    let mut vars = std::collections::BTreeMap::new();
    let mut sources = Vec::new();
    for (env, path) in [
        (globals.and_then(|g| g.get("Environment")), globals_path),
        (props.get("Environment"), fn_path),
    ] {
        if let Some(vs) = env.and_then(|e| e.get("Variables")) {
            let source = format!("{path}.Environment.Variables");
            vars.extend(environment(&resolved(r, vs, &source)?, &source)?);
            sources.push(source);
        }
    }
    if !sources.is_empty() {
        out.environment = Some(Sourced {
            value: vars,
            source: sources.join(" + "),
        });
    }
    Ok(())
}

/// Reads the ESM settings shared by SAM events and `AWS::Lambda::EventSourceMapping`.
pub(super) fn read_esm(
    r: &Resolver<'_>,
    props: &Map<String, Value>,
    base: &str,
    stream_key: &str,
    out: &mut ResolvedMapping,
) -> Result<(), DeployError> {
    let at = |k: &str| format!("{base}.{k}");
    let get = |k: &str| -> Result<Option<(Value, String)>, DeployError> {
        match props.get(k) {
            Some(v) => Ok(Some((resolved(r, v, &at(k))?, at(k)))),
            None => Ok(None),
        }
    };
    if let Some((v, source)) = get(stream_key)? {
        let arn = as_string(&v, &source)?;
        if let Some(consumer) = consumer_name_from_arn(&arn) {
            out.consumer = Some(Sourced {
                value: consumer,
                source: source.clone(),
            });
        }
        let name = stream_name_from_arn(&arn).unwrap_or(arn);
        out.stream = Some(Sourced { value: name, source });
    }
    if let Some((v, source)) = get("BatchSize")? {
        out.batch_size = Some(Sourced {
            value: as_u64(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("MaximumBatchingWindowInSeconds")? {
        out.maximum_batching_window_secs = Some(Sourced {
            value: as_u64(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("StartingPosition")? {
        out.starting_position = Some(Sourced {
            value: as_string(&v, &source)?.to_ascii_uppercase(),
            source,
        });
    }
    if let Some((v, source)) = get("StartingPositionTimestamp")? {
        out.starting_position_timestamp = Some(Sourced {
            value: as_f64(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("ParallelizationFactor")? {
        out.parallelization_factor = Some(Sourced {
            value: as_u64(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("MaximumRetryAttempts")? {
        out.maximum_retry_attempts = Some(Sourced {
            value: as_i64(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("MaximumRecordAgeInSeconds")? {
        out.maximum_record_age_secs = Some(Sourced {
            value: as_i64(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("BisectBatchOnFunctionError")? {
        out.bisect_batch_on_function_error = Some(Sourced {
            value: as_bool(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("FunctionResponseTypes")? {
        let list = match &v {
            Value::Array(items) => items
                .iter()
                .map(|i| as_string(i, &source))
                .collect::<Result<Vec<_>, _>>()?,
            other => vec![as_string(other, &source)?],
        };
        out.report_batch_item_failures = Some(Sourced {
            value: list.iter().any(|t| t == "ReportBatchItemFailures"),
            source,
        });
    }
    if let Some((v, source)) = get("TumblingWindowInSeconds")? {
        out.tumbling_window_secs = Some(Sourced {
            value: as_u64(&v, &source)?,
            source,
        });
    }
    if let Some((v, source)) = get("FilterCriteria")? {
        let filters = v
            .get("Filters")
            .and_then(Value::as_array)
            .ok_or_else(|| DeployError::BadValue {
                location: source.clone(),
                problem: "expected Filters: [{Pattern: ...}]".into(),
            })?;
        let patterns = filters
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let src = format!("{source}.Filters[{i}].Pattern");
                pattern_text(f.get("Pattern").unwrap_or(&Value::Null), &src)
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.filter_patterns = Some(Sourced {
            value: patterns,
            source,
        });
    }
    if let Some((v, source)) = get("DestinationConfig")? {
        if let Some(d) = v.get("OnFailure").and_then(|o| o.get("Destination")) {
            let arn = as_string(d, &source)?;
            out.warnings.push(destination_warning(&arn));
            out.on_failure_destination = Some(Sourced {
                value: arn,
                source: format!("{source}.OnFailure.Destination"),
            });
        }
    }
    if let Some((v, source)) = get("Enabled")? {
        let enabled = as_bool(&v, &source)?;
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
    for key in props.keys() {
        if !ESM_KEYS.contains(&key.as_str()) {
            out.warnings.push(format!(
                "{}: {key} is not emulated locally and is ignored",
                at(key)
            ));
        }
    }
    Ok(())
}
