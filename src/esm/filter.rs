//! `FilterCriteria`: the EventBridge-syntax patterns Lambda applies to Kinesis records before
//! batching (spec §2.9). Patterns are compiled once (rejecting invalid ones with the path of
//! the problem) and matched against a borrowed view of each record, parsing its `data` as JSON
//! at most once and only when some pattern looks at `data`.
//!
//! Matching rules, as EventBridge documents them: patterns are ORed; within a pattern every key
//! must match (AND); the values listed for a key are ORed; an event array matches if any element
//! does; only `{"exists": false}` matches a missing key; plain values compare exactly (numbers by
//! their JSON form, so `300` is not `300.0`: use `numeric`). Keys at the top level are the
//! record's `data` (its JSON payload) and its metadata fields (`partitionKey`, `sequenceNumber`,
//! `approximateArrivalTimestamp`, `kinesisSchemaVersion`, `eventSource`, `eventVersion`,
//! `eventID`, `eventName`, `invokeIdentityArn`, `awsRegion`, `eventSourceARN`). AWS now
//! documents only `data` for Kinesis; the metadata keys are a kinlocal extension matching the
//! older documentation. A record whose data is not JSON never matches a pattern that names
//! `data`, but can still match one on metadata only.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// AWS's default quota of filters per event source mapping.
pub const DEFAULT_MAX_FILTERS: usize = 5;
/// The most filters AWS grants on request (the quota can be raised to 10).
pub(crate) const QUOTA_CEILING: usize = 10;

/// The top-level keys a Kinesis record offers to a pattern.
pub(crate) const RECORD_KEYS: &[&str] = &[
    "data",
    "partitionKey",
    "sequenceNumber",
    "approximateArrivalTimestamp",
    "kinesisSchemaVersion",
    "eventSource",
    "eventVersion",
    "eventID",
    "eventName",
    "invokeIdentityArn",
    "awsRegion",
    "eventSourceARN",
];

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A pattern is not valid JSON.
    #[error("filter {index}: the pattern is not valid JSON: {reason}")]
    NotJson {
        /// 1-based position of the filter.
        index: usize,
        /// The parser's message.
        reason: String,
    },
    /// A pattern is JSON but breaks the pattern syntax.
    #[error("filter {index}: at {path}: {problem}")]
    Invalid {
        /// 1-based position of the filter.
        index: usize,
        /// Where in the pattern (`data.order.type`, or `(top level)`).
        path: String,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// More filters than the quota allows.
    #[error(
        "{count} filters given but at most {max} are allowed (AWS's quota; raise it with \
--max-filters, up to {QUOTA_CEILING})"
    )]
    TooMany {
        /// Filters given.
        count: usize,
        /// The limit in force.
        max: usize,
    },
    /// A `--filter-file` is not in the API's `{"Filters":[{"Pattern":"…"}]}` shape.
    #[error("filter file: {0}")]
    File(String),
}

/// One compiled pattern: an object level with keys to AND and optional `$or` alternatives.
#[derive(Debug, Clone, PartialEq)]
struct ObjectRule {
    fields: Vec<(String, FieldRule)>,
    /// Each entry is one `$or` group: at least one alternative must match.
    any_of: Vec<Vec<ObjectRule>>,
}

#[derive(Debug, Clone, PartialEq)]
enum FieldRule {
    Nested(ObjectRule),
    /// The key's value must match one of these.
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(Value),
    Prefix { text: String, ignore_case: bool },
    Suffix { text: String, ignore_case: bool },
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    Numeric(NumericRange),
    Exists(bool),
    AnythingBut(AnythingBut),
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    /// None of these exact strings/numbers.
    Values(Vec<Value>),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(Vec<String>),
    Wildcard(Vec<Wildcard>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct NumericRange {
    lower: Option<(f64, bool)>,
    upper: Option<(f64, bool)>,
}

impl NumericRange {
    fn contains(&self, x: f64) -> bool {
        let above = match self.lower {
            None => true,
            Some((b, true)) => x >= b,
            Some((b, false)) => x > b,
        };
        let below = match self.upper {
            None => true,
            Some((b, true)) => x <= b,
            Some((b, false)) => x < b,
        };
        above && below
    }
}

/// A `*` glob; `\*` is a literal star and `\\` a literal backslash.
#[derive(Debug, Clone, PartialEq)]
struct Wildcard {
    /// The literal pieces around the stars: one more than there are stars.
    pieces: Vec<String>,
}

impl Wildcard {
    fn parse(s: &str) -> Result<Self, String> {
        let mut pieces = vec![String::new()];
        let mut chars = s.chars();
        let mut last_was_star = false;
        while let Some(c) = chars.next() {
            let literal = match c {
                '\\' => match chars.next() {
                    Some(e @ ('*' | '\\')) => e,
                    _ => return Err(format!("wildcard '{s}': a backslash must be followed by * or \\")),
                },
                '*' => {
                    if last_was_star {
                        return Err(format!("wildcard '{s}': consecutive * are not allowed"));
                    }
                    last_was_star = true;
                    pieces.push(String::new());
                    continue;
                }
                other => other,
            };
            last_was_star = false;
            if let Some(p) = pieces.last_mut() {
                p.push(literal);
            }
        }
        Ok(Self { pieces })
    }

    fn matches(&self, text: &str) -> bool {
        let (Some(first), Some(last)) = (self.pieces.first(), self.pieces.last()) else {
            return false;
        };
        if self.pieces.len() == 1 {
            return text == first;
        }
        if text.len() < first.len() + last.len()
            || !text.starts_with(first.as_str())
            || !text.ends_with(last.as_str())
        {
            return false;
        }
        // Between the fixed ends, each middle piece at its leftmost place is optimal for a
        // glob whose only metacharacter is `*`.
        let mut rest = &text[first.len()..text.len() - last.len()];
        for piece in &self.pieces[1..self.pieces.len() - 1] {
            match rest.find(piece.as_str()) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

/// Compares two strings under Unicode lowercase folding without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    // ASCII folds byte for byte (a non-ASCII char may fold to ASCII, e.g. the Kelvin sign).
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    if text.is_ascii() && prefix.is_ascii() {
        return text.len() >= prefix.len()
            && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
    }
    let mut t = text.chars().flat_map(char::to_lowercase);
    prefix
        .chars()
        .flat_map(char::to_lowercase)
        .all(|p| t.next() == Some(p))
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    if text.is_ascii() && suffix.is_ascii() {
        return text.len() >= suffix.len()
            && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes());
    }
    let mut t = text.chars().rev().flat_map(char::to_lowercase);
    suffix
        .chars()
        .rev()
        .flat_map(char::to_lowercase)
        .all(|p| t.next() == Some(p))
}

/// A record's fields as a pattern sees them, borrowed from what the reader already holds.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    /// The exact record bytes (not base64).
    pub data: &'a [u8],
    /// `partitionKey`.
    pub partition_key: &'a str,
    /// `sequenceNumber`.
    pub sequence_number: &'a str,
    /// Arrival time, Unix milliseconds.
    pub arrival_ms: i64,
    /// `shardId-…`, for `eventID`.
    pub shard_id: &'a str,
    /// `invokeIdentityArn`.
    pub role_arn: &'a str,
    /// `awsRegion`.
    pub region: &'a str,
    /// `eventSourceARN`.
    pub stream_arn: &'a str,
}

/// The record's `data` as the matcher sees it.
enum Data<'a> {
    NotNeeded,
    Json(Node<'a>),
    NotJson,
}

/// A record's `data` parsed for the patterns: only the object keys they name are kept,
/// strings (and keys) are borrowed from the record when they hold no escapes, and objects are
/// small vectors rather than hash maps. Parsing is most of the cost of filtering a record; this
/// keeps it to one pass and a few allocations (one per object or array kept).
#[derive(Debug, Clone, PartialEq)]
enum Node<'a> {
    Null,
    Bool(bool),
    Num(Number),
    Str(Cow<'a, str>),
    Arr(Vec<Node<'a>>),
    /// Keys in document order; a duplicate key's last value wins, as in a full parse.
    Obj(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// String equality that rejects on the length and first byte before comparing the rest (most
/// keys compared differ there; a call to `memcmp` per candidate showed in profiles).
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

impl<'a> Node<'a> {
    fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Self::Obj(fields) => fields
                .iter()
                .rev()
                .find(|(k, _)| same_key(k, key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Neither an array nor an object.
    fn is_leaf(&self) -> bool {
        !matches!(self, Self::Arr(_) | Self::Obj(_))
    }
}

/// The compiled `FilterCriteria` of a mapping (the default has no filter: all records pass).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FilterCriteria {
    rules: Vec<ObjectRule>,
    /// The original pattern strings (for `--dry-run` and messages).
    patterns: Vec<String>,
    /// The paths under `data` any pattern looks at (`None`: no pattern names `data`).
    data_keys: Option<KeyTree>,
    /// Some pattern reads `approximateArrivalTimestamp` (computed once per record if so).
    uses_arrival: bool,
}

/// The object keys a set of patterns reads below one level of `data`. Parsing keeps only
/// these (the rest is skipped without allocating). Scalars and arrays are always kept: a leaf
/// rule never looks inside an object, so an object's other keys are never needed.
#[derive(Debug, Clone, Default, PartialEq)]
struct KeyTree {
    /// A handful of keys per level: a linear search beats hashing them.
    children: Vec<(String, KeyTree)>,
}

impl KeyTree {
    fn child(&self, key: &str) -> Option<&KeyTree> {
        self.children
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, t)| t)
    }

    fn child_mut(&mut self, key: &str) -> &mut KeyTree {
        let at = match self.children.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                self.children.push((key.to_string(), KeyTree::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[at].1
    }

    fn add_object(&mut self, rule: &ObjectRule) {
        for (key, field) in &rule.fields {
            let child = self.child_mut(key);
            if let FieldRule::Nested(inner) = field {
                child.add_object(inner);
            }
        }
        for alt in rule.any_of.iter().flatten() {
            self.add_object(alt);
        }
    }

    fn add_data_rules(&mut self, rule: &ObjectRule) {
        for (key, field) in &rule.fields {
            if let ("data", FieldRule::Nested(inner)) = (key.as_str(), field) {
                self.add_object(inner);
            }
        }
        for alt in rule.any_of.iter().flatten() {
            self.add_data_rules(alt);
        }
    }
}

impl FilterCriteria {
    /// Compiles pattern strings (each the JSON text of one `Filters[].Pattern`), refusing more
    /// than `max_filters` and any invalid pattern.
    pub fn compile<S: AsRef<str>>(patterns: &[S], max_filters: usize) -> Result<Self, FilterError> {
        if patterns.len() > max_filters {
            return Err(FilterError::TooMany {
                count: patterns.len(),
                max: max_filters,
            });
        }
        let mut rules = Vec::with_capacity(patterns.len());
        let mut data_keys: Option<KeyTree> = None;
        for (i, p) in patterns.iter().enumerate() {
            let index = i + 1;
            let value: Value = serde_json::from_str(p.as_ref()).map_err(|e| FilterError::NotJson {
                index,
                reason: e.to_string(),
            })?;
            let Value::Object(map) = value else {
                return Err(FilterError::Invalid {
                    index,
                    path: "(top level)".into(),
                    problem: "a pattern must be a JSON object, e.g. {\"data\": {\"type\": [\"buy\"]}}".into(),
                });
            };
            let rule = compile_object(&map, "").map_err(|(path, problem)| FilterError::Invalid {
                index,
                path: if path.is_empty() {
                    "(top level)".into()
                } else {
                    path
                },
                problem,
            })?;
            if mentions_data(&rule) {
                data_keys
                    .get_or_insert_with(KeyTree::default)
                    .add_data_rules(&rule);
            }
            rules.push(rule);
        }
        let mut top = Vec::new();
        for rule in &rules {
            collect_top_keys(rule, &mut top);
        }
        Ok(Self {
            uses_arrival: top.iter().any(|k| k == "approximateArrivalTimestamp"),
            rules,
            patterns: patterns.iter().map(|p| p.as_ref().to_string()).collect(),
            data_keys,
        })
    }

    /// Parses a `--filter-file`: `{"Filters":[{"Pattern":"{…}"}, …]}` as the Lambda API takes it
    /// (a `Pattern` given as a JSON object instead of a string is accepted too).
    pub(crate) fn patterns_from_file_text(text: &str) -> Result<Vec<String>, FilterError> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| FilterError::File(format!("not valid JSON: {e}")))?;
        let filters = v.get("Filters").and_then(Value::as_array).ok_or_else(|| {
            FilterError::File(
                "expected {\"Filters\": [{\"Pattern\": \"{...}\"}]} (the FilterCriteria of the Lambda API)"
                    .into(),
            )
        })?;
        filters
            .iter()
            .enumerate()
            .map(|(i, f)| match f.get("Pattern") {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(obj @ Value::Object(_)) => Ok(obj.to_string()),
                _ => Err(FilterError::File(format!(
                    "Filters[{i}] has no \"Pattern\" string"
                ))),
            })
            .collect()
    }

    /// Whether no filter is configured (every record passes).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The pattern strings as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Top-level keys that no Kinesis record has (a typo matches nothing): worth a warning.
    pub(crate) fn unknown_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for rule in &self.rules {
            collect_top_keys(rule, &mut out);
        }
        out.retain(|k| !RECORD_KEYS.contains(&k.as_str()));
        out.sort();
        out.dedup();
        out
    }

    /// Whether the record passes: any filter matches (or there are none).
    pub fn matches(&self, record: &RecordView<'_>) -> bool {
        if self.rules.is_empty() {
            return true;
        }
        let data = match &self.data_keys {
            Some(keys) => parse_data(record.data, keys),
            None => Data::NotNeeded,
        };
        // The arrival time as the event shows it (seconds with millisecond precision).
        let arrival = if self.uses_arrival {
            match super::event::arrival_timestamp(record.arrival_ms) {
                Value::Number(n) => Some(n),
                _ => None,
            }
        } else {
            None
        };
        let top = TopLevel {
            record,
            data: &data,
            arrival: arrival.as_ref(),
        };
        self.rules.iter().any(|r| top.matches(r))
    }
}

fn parse_data<'a>(bytes: &'a [u8], keys: &KeyTree) -> Data<'a> {
    // Lambda base64-decodes the record and parses it as JSON; we hold the decoded bytes already.
    // The whole document is still validated: skipped parts must be JSON too. JSON is UTF-8:
    // checking the whole record once is cheaper than the parser checking every string.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Data::NotJson;
    };
    let mut de = serde_json::Deserializer::from_str(text);
    match serde::de::DeserializeSeed::deserialize(Pruned(keys), &mut de).and_then(|v| {
        de.end()?;
        Ok(v)
    }) {
        Ok(v) => Data::Json(v),
        Err(_) => Data::NotJson,
    }
}

/// Deserializes a JSON value into a [`Node`], keeping only the object keys of a [`KeyTree`].
struct Pruned<'k>(&'k KeyTree);

impl<'de> serde::de::DeserializeSeed<'de> for Pruned<'_> {
    type Value = Node<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::de::Visitor<'de> for Pruned<'_> {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Num(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Num(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(n).map_or(Node::Null, Node::Num))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(s.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Pruned(self.0))? {
            out.push(v);
        }
        Ok(Node::Arr(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        // One allocation for the keys the patterns name (fewer when the record lacks some).
        let mut out = Vec::with_capacity(self.0.children.len());
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match self.0.child(&k) {
                Some(child) => {
                    let v = map.next_value_seed(Pruned(child))?;
                    out.push((k, v));
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Node::Obj(out))
    }
}

fn collect_top_keys(rule: &ObjectRule, out: &mut Vec<String>) {
    for (k, _) in &rule.fields {
        out.push(k.clone());
    }
    for group in &rule.any_of {
        for alt in group {
            collect_top_keys(alt, out);
        }
    }
}

fn mentions_data(rule: &ObjectRule) -> bool {
    rule.fields.iter().any(|(k, _)| k == "data") || rule.any_of.iter().flatten().any(mentions_data)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

type CompileResult<T> = Result<T, (String, String)>;

fn compile_object(map: &Map<String, Value>, path: &str) -> CompileResult<ObjectRule> {
    if map.is_empty() {
        return Err((
            path.to_string(),
            "empty objects are not allowed in a pattern".into(),
        ));
    }
    let mut rule = ObjectRule {
        fields: Vec::new(),
        any_of: Vec::new(),
    };
    for (key, value) in map {
        let here = join(path, key);
        if key == "$or" {
            if let Value::Array(alts) = value {
                if alts.iter().all(Value::is_object) && !alts.is_empty() {
                    if alts.len() < 2 {
                        return Err((here, "$or needs at least two alternatives".into()));
                    }
                    let group = alts
                        .iter()
                        .enumerate()
                        .map(|(i, a)| match a {
                            Value::Object(m) => compile_object(m, &format!("{here}[{i}]")),
                            _ => Err((here.clone(), "an $or alternative must be an object".into())),
                        })
                        .collect::<CompileResult<Vec<_>>>()?;
                    rule.any_of.push(group);
                    continue;
                }
            }
        }
        let field = match value {
            Value::Object(m) => FieldRule::Nested(compile_object(m, &here)?),
            Value::Array(items) => FieldRule::Leaf(compile_leaf(items, &here)?),
            other => {
                return Err((
                    here,
                    format!("a value must be listed in an array, e.g. [{other}], or be a nested object"),
                ))
            }
        };
        rule.fields.push((key.clone(), field));
    }
    Ok(rule)
}

fn compile_leaf(items: &[Value], path: &str) -> CompileResult<Vec<Matcher>> {
    if items.is_empty() {
        return Err((
            path.to_string(),
            "empty arrays are not allowed: list at least one value".into(),
        ));
    }
    items
        .iter()
        .map(|item| match item {
            Value::Object(op) => compile_operator(op, path),
            Value::Array(_) => Err((
                path.to_string(),
                "nested arrays are not allowed in a pattern".into(),
            )),
            scalar => Ok(Matcher::Exact(scalar.clone())),
        })
        .collect()
}

const OPERATORS: &str = "prefix, suffix, anything-but, numeric, exists, equals-ignore-case, wildcard";

fn string_arg<'v>(v: &'v Value, path: &str, op: &str) -> CompileResult<&'v str> {
    v.as_str()
        .ok_or_else(|| (path.to_string(), format!("{op} expects a string, got {v}")))
}

/// `"text"` or `{"equals-ignore-case": "text"}` (for prefix and suffix).
fn affix_arg(v: &Value, path: &str, op: &str) -> CompileResult<(String, bool)> {
    match v {
        Value::String(s) => Ok((s.clone(), false)),
        Value::Object(m) if m.len() == 1 && m.contains_key("equals-ignore-case") => {
            let s = string_arg(&m["equals-ignore-case"], path, op)?;
            Ok((s.to_string(), true))
        }
        other => Err((
            path.to_string(),
            format!("{op} expects a string or {{\"equals-ignore-case\": \"…\"}}, got {other}"),
        )),
    }
}

fn compile_operator(op: &Map<String, Value>, path: &str) -> CompileResult<Matcher> {
    let mut entries = op.iter();
    let (Some((name, arg)), None) = (entries.next(), entries.next()) else {
        return Err((
            path.to_string(),
            format!("an operator object has exactly one key (one of {OPERATORS})"),
        ));
    };
    let p = path.to_string();
    match name.as_str() {
        "prefix" => {
            let (text, ignore_case) = affix_arg(arg, path, "prefix")?;
            Ok(Matcher::Prefix { text, ignore_case })
        }
        "suffix" => {
            let (text, ignore_case) = affix_arg(arg, path, "suffix")?;
            Ok(Matcher::Suffix { text, ignore_case })
        }
        "equals-ignore-case" => Ok(Matcher::EqualsIgnoreCase(
            string_arg(arg, path, "equals-ignore-case")?.to_string(),
        )),
        "wildcard" => Wildcard::parse(string_arg(arg, path, "wildcard")?)
            .map(Matcher::Wildcard)
            .map_err(|e| (p, e)),
        "exists" => match arg {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            other => Err((p, format!("exists expects true or false, got {other}"))),
        },
        "numeric" => compile_numeric(arg, path).map(Matcher::Numeric),
        "anything-but" => compile_anything_but(arg, path).map(Matcher::AnythingBut),
        "cidr" => Err((
            p,
            "cidr is an EventBridge operator Lambda filtering does not offer".into(),
        )),
        other => Err((p, format!("unknown operator '{other}' (known: {OPERATORS})"))),
    }
}

fn compile_numeric(arg: &Value, path: &str) -> CompileResult<NumericRange> {
    let p = || path.to_string();
    let Value::Array(items) = arg else {
        return Err((p(), "numeric expects an array like [\">\", 0, \"<=\", 5]".into()));
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err((
            p(),
            "numeric expects one or two comparisons, e.g. [\"=\", 100] or [\">\", 0, \"<=\", 5]".into(),
        ));
    }
    let mut range = NumericRange {
        lower: None,
        upper: None,
    };
    for pair in items.chunks(2) {
        let Some(op) = pair[0].as_str() else {
            return Err((
                p(),
                format!("numeric: expected an operator (=, <, <=, >, >=), got {}", pair[0]),
            ));
        };
        let Some(n) = pair[1].as_f64() else {
            return Err((
                p(),
                format!("numeric: '{op}' must be followed by a number, got {}", pair[1]),
            ));
        };
        let slot = match op {
            "=" => {
                if items.len() != 2 {
                    return Err((
                        p(),
                        "numeric: '=' cannot be combined with another comparison".into(),
                    ));
                }
                range.lower = Some((n, true));
                range.upper = Some((n, true));
                continue;
            }
            ">" | ">=" => &mut range.lower,
            "<" | "<=" => &mut range.upper,
            other => {
                return Err((
                    p(),
                    format!("numeric: unknown comparison '{other}' (use =, <, <=, >, >=)"),
                ))
            }
        };
        if slot.is_some() {
            return Err((p(), "numeric: at most one lower and one upper bound".into()));
        }
        *slot = Some((n, op.ends_with('=')));
    }
    if let (Some((lo, _)), Some((hi, _))) = (range.lower, range.upper) {
        if lo > hi {
            return Err((
                p(),
                format!("numeric: the lower bound {lo} is above the upper bound {hi}"),
            ));
        }
    }
    Ok(range)
}

fn compile_anything_but(arg: &Value, path: &str) -> CompileResult<AnythingBut> {
    let p = || path.to_string();
    let value_ok = |v: &Value| matches!(v, Value::String(_) | Value::Number(_));
    match arg {
        Value::String(_) | Value::Number(_) => Ok(AnythingBut::Values(vec![arg.clone()])),
        Value::Array(items) => {
            if items.is_empty() {
                return Err((p(), "anything-but: the list is empty".into()));
            }
            if let Some(bad) = items.iter().find(|v| !value_ok(v)) {
                return Err((
                    p(),
                    format!("anything-but lists strings or numbers only, got {bad}"),
                ));
            }
            Ok(AnythingBut::Values(items.clone()))
        }
        Value::Object(m) => {
            let mut e = m.iter();
            let (Some((name, inner)), None) = (e.next(), e.next()) else {
                return Err((
                    p(),
                    "anything-but takes one of prefix, suffix, wildcard, equals-ignore-case".into(),
                ));
            };
            let strings = |op: &str| -> CompileResult<Vec<String>> {
                match inner {
                    Value::String(s) => Ok(vec![s.clone()]),
                    Value::Array(xs) if !xs.is_empty() => xs
                        .iter()
                        .map(|x| string_arg(x, path, op).map(str::to_string))
                        .collect(),
                    other => Err((
                        p(),
                        format!("anything-but {op} expects a string or a list of strings, got {other}"),
                    )),
                }
            };
            match name.as_str() {
                "prefix" => Ok(AnythingBut::Prefix(
                    string_arg(inner, path, "anything-but prefix")?.to_string(),
                )),
                "suffix" => Ok(AnythingBut::Suffix(
                    string_arg(inner, path, "anything-but suffix")?.to_string(),
                )),
                "equals-ignore-case" => Ok(AnythingBut::EqualsIgnoreCase(strings("equals-ignore-case")?)),
                "wildcard" => strings("wildcard")?
                    .iter()
                    .map(|s| Wildcard::parse(s).map_err(|e| (p(), e)))
                    .collect::<CompileResult<Vec<_>>>()
                    .map(AnythingBut::Wildcard),
                other => Err((
                    p(),
                    format!(
                        "anything-but cannot take '{other}' (prefix, suffix, wildcard, equals-ignore-case)"
                    ),
                )),
            }
        }
        other => Err((
            p(),
            format!("anything-but expects a value, a list or an operator object, got {other}"),
        )),
    }
}

/// A value of `data`, or a metadata field held as borrowed text / a number.
#[derive(Clone, Copy)]
enum Val<'a> {
    Node(&'a Node<'a>),
    Str(&'a str),
    Num(&'a Number),
}

/// The top level of a record: `data` plus metadata, without building a JSON object.
struct TopLevel<'r, 'a> {
    record: &'r RecordView<'a>,
    data: &'r Data<'a>,
    arrival: Option<&'r Number>,
}

enum Lookup<'a> {
    Missing,
    /// `data` that is not JSON: no rule on it can match, not even `exists: false`.
    Unmatchable,
    Found(Val<'a>),
}

impl TopLevel<'_, '_> {
    fn matches(&self, rule: &ObjectRule) -> bool {
        let fields_ok = rule.fields.iter().all(|(key, field)| {
            let r = self.record;
            let found = match key.as_str() {
                "data" => match self.data {
                    Data::Json(v) => Lookup::Found(Val::Node(v)),
                    Data::NotJson | Data::NotNeeded => Lookup::Unmatchable,
                },
                "partitionKey" => Lookup::Found(Val::Str(r.partition_key)),
                "sequenceNumber" => Lookup::Found(Val::Str(r.sequence_number)),
                "approximateArrivalTimestamp" => match self.arrival {
                    Some(n) => Lookup::Found(Val::Num(n)),
                    None => Lookup::Missing,
                },
                "kinesisSchemaVersion" | "eventVersion" => Lookup::Found(Val::Str("1.0")),
                "eventSource" => Lookup::Found(Val::Str("aws:kinesis")),
                "eventName" => Lookup::Found(Val::Str("aws:kinesis:record")),
                "eventID" => {
                    let id = format!("{}:{}", r.shard_id, r.sequence_number);
                    return field_matches(field, Val::Str(&id));
                }
                "invokeIdentityArn" => Lookup::Found(Val::Str(r.role_arn)),
                "awsRegion" => Lookup::Found(Val::Str(r.region)),
                "eventSourceARN" => Lookup::Found(Val::Str(r.stream_arn)),
                _ => Lookup::Missing,
            };
            match found {
                Lookup::Unmatchable => false,
                Lookup::Missing => field_matches_missing(field),
                Lookup::Found(v) => field_matches(field, v),
            }
        });
        fields_ok
            && rule
                .any_of
                .iter()
                .all(|group| group.iter().any(|alt| self.matches(alt)))
    }
}

/// `obj` is a [`Node::Obj`] (or none: the object is missing).
fn object_matches(rule: &ObjectRule, obj: Option<&Node<'_>>) -> bool {
    let fields_ok = rule
        .fields
        .iter()
        .all(|(key, field)| match obj.and_then(|o| o.get(key)) {
            None => field_matches_missing(field),
            Some(v) => field_matches(field, Val::Node(v)),
        });
    fields_ok
        && rule
            .any_of
            .iter()
            .all(|group| group.iter().any(|alt| object_matches(alt, obj)))
}

fn field_matches_missing(field: &FieldRule) -> bool {
    match field {
        FieldRule::Leaf(ms) => ms.iter().any(|m| matches!(m, Matcher::Exists(false))),
        // A missing object: its leaves are all missing.
        FieldRule::Nested(rule) => object_matches(rule, None),
    }
}

fn field_matches(field: &FieldRule, value: Val<'_>) -> bool {
    match (field, value) {
        (FieldRule::Nested(rule), Val::Node(o @ Node::Obj(_))) => object_matches(rule, Some(o)),
        (FieldRule::Nested(rule), Val::Node(Node::Arr(items))) => {
            // Fields of one pattern object must come from the same array element.
            let mut any_object = false;
            for o in items.iter().filter(|n| matches!(n, Node::Obj(_))) {
                if object_matches(rule, Some(o)) {
                    return true;
                }
                any_object = true;
            }
            !any_object && object_matches(rule, None)
        }
        (FieldRule::Nested(rule), _) => object_matches(rule, None),
        (FieldRule::Leaf(ms), Val::Node(Node::Arr(items))) => {
            let leaves = || items.iter().filter(|v| v.is_leaf());
            if leaves().next().is_none() {
                // No leaf value here (an empty array or only objects): the key does not exist
                // as a leaf, as EventBridge flattens events.
                return ms.iter().any(|m| matches!(m, Matcher::Exists(false)));
            }
            ms.iter().any(|m| leaves().any(|v| m.matches(Val::Node(v))))
        }
        (FieldRule::Leaf(ms), Val::Node(Node::Obj(_))) => {
            ms.iter().any(|m| matches!(m, Matcher::Exists(false)))
        }
        (FieldRule::Leaf(ms), v) => ms.iter().any(|m| m.matches(v)),
    }
}

impl Matcher {
    /// Matches one leaf value (never an array or object).
    fn matches(&self, v: Val<'_>) -> bool {
        let text: Option<&str> = match v {
            Val::Str(s) => Some(s),
            Val::Node(Node::Str(s)) => Some(s),
            _ => None,
        };
        let number: Option<&Number> = match v {
            Val::Num(n) | Val::Node(Node::Num(n)) => Some(n),
            _ => None,
        };
        match self {
            Self::Exists(present) => *present,
            Self::Exact(want) => match (want, v) {
                (Value::String(w), _) => text == Some(w.as_str()),
                (Value::Number(w), _) => number == Some(w),
                (Value::Bool(w), Val::Node(Node::Bool(b))) => w == b,
                (Value::Null, Val::Node(Node::Null)) => true,
                _ => false,
            },
            Self::Prefix { text: p, ignore_case } => text.is_some_and(|t| {
                if *ignore_case {
                    starts_with_ignore_case(t, p)
                } else {
                    t.starts_with(p.as_str())
                }
            }),
            Self::Suffix { text: s, ignore_case } => text.is_some_and(|t| {
                if *ignore_case {
                    ends_with_ignore_case(t, s)
                } else {
                    t.ends_with(s.as_str())
                }
            }),
            Self::EqualsIgnoreCase(want) => text.is_some_and(|t| eq_ignore_case(t, want)),
            Self::Wildcard(w) => text.is_some_and(|t| w.matches(t)),
            Self::Numeric(range) => number.and_then(Number::as_f64).is_some_and(|x| range.contains(x)),
            Self::AnythingBut(but) => match but {
                AnythingBut::Values(values) => !values.iter().any(|w| match (w, number) {
                    (Value::String(w), _) => text == Some(w.as_str()),
                    (Value::Number(w), Some(n)) => {
                        w == n || matches!((w.as_f64(), n.as_f64()), (Some(a), Some(b)) if a == b)
                    }
                    _ => false,
                }),
                // Affix negations apply to strings only, as in EventBridge.
                AnythingBut::Prefix(p) => text.is_some_and(|t| !t.starts_with(p.as_str())),
                AnythingBut::Suffix(s) => text.is_some_and(|t| !t.ends_with(s.as_str())),
                AnythingBut::EqualsIgnoreCase(ws) => {
                    text.is_some_and(|t| !ws.iter().any(|w| eq_ignore_case(t, w)))
                }
                AnythingBut::Wildcard(ws) => text.is_some_and(|t| !ws.iter().any(|w| w.matches(t))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARD: &str = "shardId-000000000006";
    const ARN: &str = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream";

    fn view<'a>(data: &'a [u8], pk: &'a str) -> RecordView<'a> {
        RecordView {
            data,
            partition_key: pk,
            sequence_number: "49590338271490256608559692538361571095921575989136588898",
            arrival_ms: 1_545_084_650_987,
            shard_id: SHARD,
            role_arn: "arn:aws:iam::123456789012:role/lambda-role",
            region: "us-east-2",
            stream_arn: ARN,
        }
    }

    fn criteria(patterns: &[&str]) -> FilterCriteria {
        match FilterCriteria::compile(patterns, QUOTA_CEILING) {
            Ok(c) => c,
            Err(e) => panic!("{patterns:?} refused: {e}"),
        }
    }

    /// Whether `pattern` passes a record carrying `data` (JSON text or raw bytes).
    fn passes(pattern: &str, data: &str) -> bool {
        criteria(&[pattern]).matches(&view(data.as_bytes(), "1"))
    }

    fn refused(pattern: &str) -> String {
        match FilterCriteria::compile(&[pattern], DEFAULT_MAX_FILTERS) {
            Ok(_) => panic!("{pattern} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    /// The example of AWS's Kinesis filtering page: orders of type "buy".
    #[test]
    fn aws_kinesis_example_filters_on_data() {
        let p = r#"{"data": {"order": {"type": ["buy"]}}}"#;
        let buy = r#"{"record": 12345, "order": {"type": "buy", "stock": "ANYCO", "quantity": 1000}}"#;
        let sell = r#"{"record": 12346, "order": {"type": "sell", "stock": "ANYCO", "quantity": 1000}}"#;
        assert!(passes(p, buy));
        assert!(!passes(p, sell));
        assert!(!passes(p, r#"{"record": 1}"#), "a missing key does not match");
    }

    #[test]
    fn equals_is_exact_and_case_sensitive() {
        let p = r#"{"data": {"Name": ["Alice"]}}"#;
        assert!(passes(p, r#"{"Name": "Alice"}"#));
        assert!(!passes(p, r#"{"Name": "alice"}"#));
        assert!(!passes(p, r#"{"Name": "Alice "}"#));
    }

    #[test]
    fn values_are_ored_and_keys_are_anded() {
        let or = r#"{"data": {"Type": ["Credit", "Debit"]}}"#;
        assert!(passes(or, r#"{"Type": "Credit"}"#));
        assert!(passes(or, r#"{"Type": "Debit"}"#));
        assert!(!passes(or, r#"{"Type": "Cash"}"#));
        let and = r#"{"data": {"Loc": ["NY"], "Day": ["Mon"]}}"#;
        assert!(passes(and, r#"{"Loc": "NY", "Day": "Mon"}"#));
        assert!(!passes(and, r#"{"Loc": "NY", "Day": "Tue"}"#));
        assert!(!passes(and, r#"{"Loc": "NY"}"#));
    }

    #[test]
    fn null_and_empty_match_only_themselves() {
        let null = r#"{"data": {"UserID": [null]}}"#;
        assert!(passes(null, r#"{"UserID": null}"#));
        assert!(!passes(null, r#"{"UserID": "x"}"#));
        assert!(!passes(null, r#"{"Other": 1}"#), "null is not missing");
        let empty = r#"{"data": {"LastName": [""]}}"#;
        assert!(passes(empty, r#"{"LastName": ""}"#));
        assert!(!passes(empty, r#"{"LastName": null}"#));
    }

    #[test]
    fn plain_numbers_compare_by_form_and_types_do_not_mix() {
        let p = r#"{"data": {"Price": [300]}}"#;
        assert!(passes(p, r#"{"Price": 300}"#));
        assert!(
            !passes(p, r#"{"Price": 300.0}"#),
            "use numeric for value comparison"
        );
        assert!(!passes(p, r#"{"Price": "300"}"#));
        assert!(!passes(r#"{"data": {"Price": ["300"]}}"#, r#"{"Price": 300}"#));
        assert!(passes(r#"{"data": {"ok": [true]}}"#, r#"{"ok": true}"#));
        assert!(!passes(r#"{"data": {"ok": [true]}}"#, r#"{"ok": "true"}"#));
    }

    #[test]
    fn anything_but_values() {
        let p = r#"{"data": {"Weather": [{"anything-but": ["Raining", "Snowing"]}]}}"#;
        assert!(passes(p, r#"{"Weather": "Sunny"}"#));
        assert!(!passes(p, r#"{"Weather": "Raining"}"#));
        assert!(
            !passes(p, r#"{"Other": 1}"#),
            "anything-but needs the key present"
        );
        let single = r#"{"data": {"Weather": [{"anything-but": "Raining"}]}}"#;
        assert!(passes(single, r#"{"Weather": "Sunny"}"#));
        assert!(!passes(single, r#"{"Weather": "Raining"}"#));
        let num = r#"{"data": {"Code": [{"anything-but": [404, 500]}]}}"#;
        assert!(passes(num, r#"{"Code": 200}"#));
        assert!(!passes(num, r#"{"Code": 404}"#));
        assert!(
            passes(num, r#"{"Code": "404"}"#),
            "a string is not the number 404"
        );
    }

    #[test]
    fn anything_but_prefix_suffix_wildcard_and_ignore_case() {
        let prefix = r#"{"data": {"Region": [{"anything-but": {"prefix": "us-"}}]}}"#;
        assert!(passes(prefix, r#"{"Region": "eu-west-1"}"#));
        assert!(!passes(prefix, r#"{"Region": "us-east-1"}"#));
        let suffix = r#"{"data": {"File": [{"anything-but": {"suffix": ".tmp"}}]}}"#;
        assert!(passes(suffix, r#"{"File": "a.png"}"#));
        assert!(!passes(suffix, r#"{"File": "a.tmp"}"#));
        let wild = r#"{"data": {"File": [{"anything-but": {"wildcard": ["*.tmp", "tmp/*"]}}]}}"#;
        assert!(passes(wild, r#"{"File": "a.png"}"#));
        assert!(!passes(wild, r#"{"File": "tmp/a.png"}"#));
        assert!(!passes(wild, r#"{"File": "x.tmp"}"#));
        let ic = r#"{"data": {"Name": [{"anything-but": {"equals-ignore-case": ["alice", "BOB"]}}]}}"#;
        assert!(passes(ic, r#"{"Name": "Carol"}"#));
        assert!(!passes(ic, r#"{"Name": "ALICE"}"#));
        assert!(!passes(ic, r#"{"Name": "bob"}"#));
    }

    #[test]
    fn numeric_equals_and_ranges() {
        let eq = r#"{"data": {"Price": [{"numeric": ["=", 100]}]}}"#;
        assert!(passes(eq, r#"{"Price": 100}"#));
        assert!(passes(eq, r#"{"Price": 100.0}"#), "numeric compares values");
        assert!(!passes(eq, r#"{"Price": 101}"#));
        assert!(!passes(eq, r#"{"Price": "100"}"#), "strings never match numeric");
        let range = r#"{"data": {"Price": [{"numeric": [">", 10, "<=", 20]}]}}"#;
        assert!(!passes(range, r#"{"Price": 10}"#));
        assert!(passes(range, r#"{"Price": 10.5}"#));
        assert!(passes(range, r#"{"Price": 20}"#));
        assert!(!passes(range, r#"{"Price": 20.01}"#));
        let open = r#"{"data": {"t": [{"numeric": ["<", 0]}]}}"#;
        assert!(passes(open, r#"{"t": -3.5}"#));
        assert!(!passes(open, r#"{"t": 0}"#));
        let ge = r#"{"data": {"t": [{"numeric": [">=", 0]}]}}"#;
        assert!(passes(ge, r#"{"t": 0}"#));
    }

    #[test]
    fn exists_and_does_not_exist() {
        let yes = r#"{"data": {"Product": [{"exists": true}]}}"#;
        let no = r#"{"data": {"Product": [{"exists": false}]}}"#;
        assert!(passes(yes, r#"{"Product": "x"}"#));
        assert!(passes(yes, r#"{"Product": null}"#));
        assert!(!passes(yes, r#"{"Other": 1}"#));
        assert!(
            passes(no, r#"{"Other": 1}"#),
            "the only rule that matches a missing key"
        );
        assert!(!passes(no, r#"{"Product": "x"}"#));
        // Exists applies to leaves: an object value is not a leaf.
        assert!(!passes(yes, r#"{"Product": {"id": 1}}"#));
        let deep_missing = r#"{"data": {"a": {"b": [{"exists": false}]}}}"#;
        assert!(passes(deep_missing, r#"{"x": 1}"#));
        assert!(!passes(deep_missing, r#"{"a": {"b": 2}}"#));
    }

    #[test]
    fn prefix_suffix_and_their_ignore_case_forms() {
        let prefix = r#"{"data": {"Region": [{"prefix": "us-"}]}}"#;
        assert!(passes(prefix, r#"{"Region": "us-east-1"}"#));
        assert!(!passes(prefix, r#"{"Region": "eu-west-1"}"#));
        assert!(!passes(prefix, r#"{"Region": 5}"#));
        let suffix = r#"{"data": {"File": [{"suffix": ".png"}]}}"#;
        assert!(passes(suffix, r#"{"File": "cat.png"}"#));
        assert!(!passes(suffix, r#"{"File": "cat.PNG"}"#));
        let suffix_ic = r#"{"data": {"File": [{"suffix": {"equals-ignore-case": ".png"}}]}}"#;
        assert!(passes(suffix_ic, r#"{"File": "cat.PNG"}"#));
        let prefix_ic = r#"{"data": {"Region": [{"prefix": {"equals-ignore-case": "US-"}}]}}"#;
        assert!(passes(prefix_ic, r#"{"Region": "us-east-1"}"#));
        assert!(!passes(prefix_ic, r#"{"Region": "u"}"#));
    }

    #[test]
    fn equals_ignore_case_folds_unicode() {
        let p = r#"{"data": {"Name": [{"equals-ignore-case": "ÉLODIE"}]}}"#;
        assert!(passes(p, r#"{"Name": "élodie"}"#));
        assert!(!passes(p, r#"{"Name": "elodie"}"#));
    }

    #[test]
    fn wildcards() {
        let cases = [
            ("*.png", "cat.png", true),
            ("*.png", "cat.png.bak", false),
            ("dir/*/file", "dir/a/b/file", true),
            ("dir/*/file", "dir/file", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("*", "", true),
            ("exact", "exact", true),
            (r"lit\*star", "lit*star", true),
            (r"lit\*star", "litXstar", false),
            (r"back\\slash*", r"back\slash!", true),
        ];
        for (glob, text, want) in cases {
            let pattern = serde_json::json!({"data": {"f": [{"wildcard": glob}]}}).to_string();
            let data = serde_json::json!({ "f": text }).to_string();
            assert_eq!(passes(&pattern, &data), want, "{glob} vs {text}");
        }
        assert!(refused(r#"{"data": {"f": [{"wildcard": "a**b"}]}}"#).contains("consecutive"));
    }

    #[test]
    fn or_across_keys() {
        let p = r#"{"data": {"$or": [{"c": [1]}, {"d": [{"prefix": "x"}]}], "e": ["y"]}}"#;
        assert!(passes(p, r#"{"c": 1, "e": "y"}"#));
        assert!(passes(p, r#"{"d": "xx", "e": "y"}"#));
        assert!(!passes(p, r#"{"c": 2, "d": "z", "e": "y"}"#));
        assert!(!passes(p, r#"{"c": 1, "e": "n"}"#), "the other keys still apply");
        let top = r#"{"$or": [{"partitionKey": ["a"]}, {"data": {"k": ["v"]}}]}"#;
        let c = criteria(&[top]);
        assert!(c.matches(&view(b"not json", "a")));
        assert!(c.matches(&view(br#"{"k":"v"}"#, "b")));
        assert!(!c.matches(&view(br#"{"k":"w"}"#, "b")));
    }

    #[test]
    fn arrays_match_any_element_and_objects_stay_together() {
        let p = r#"{"data": {"tags": ["red"]}}"#;
        assert!(passes(p, r#"{"tags": ["blue", "red"]}"#));
        assert!(!passes(p, r#"{"tags": ["blue"]}"#));
        assert!(!passes(p, r#"{"tags": []}"#));
        let nested = r#"{"data": {"items": {"sku": ["A"], "qty": [{"numeric": [">", 5]}]}}}"#;
        assert!(passes(
            nested,
            r#"{"items": [{"sku": "B", "qty": 9}, {"sku": "A", "qty": 6}]}"#
        ));
        assert!(
            !passes(
                nested,
                r#"{"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 9}]}"#
            ),
            "fields of one pattern object must come from one element"
        );
        let num = r#"{"data": {"n": [{"numeric": [">", 5]}]}}"#;
        assert!(passes(num, r#"{"n": [1, 7]}"#));
    }

    #[test]
    fn nested_objects_match_level_by_level() {
        let p = r#"{"data": {"a": {"b": {"c": ["d"]}}}}"#;
        assert!(passes(p, r#"{"a": {"b": {"c": "d", "e": 1}}}"#));
        assert!(!passes(p, r#"{"a": {"b": "c"}}"#));
        assert!(!passes(p, r#"{"a": {"c": "d"}}"#));
    }

    #[test]
    fn non_json_data_matches_only_metadata_patterns() {
        let on_data = criteria(&[r#"{"data": {"a": [{"exists": false}]}}"#]);
        assert!(!on_data.matches(&view(b"plain text", "1")), "dropped, as on AWS");
        assert!(!on_data.matches(&view(&[0xff, 0x00], "1")));
        let on_key = criteria(&[r#"{"partitionKey": [{"prefix": "user-"}]}"#]);
        assert!(on_key.matches(&view(b"plain text", "user-7")));
        assert!(!on_key.matches(&view(b"plain text", "order-7")));
        // A JSON scalar is JSON: an object pattern under data does not match it.
        assert!(!passes(r#"{"data": {"a": ["b"]}}"#, "42"));
    }

    #[test]
    fn parts_the_patterns_skip_must_still_be_json() {
        let p = r#"{"data": {"a": [1]}}"#;
        assert!(passes(p, r#"{"a": 1, "b": {"c": [1, 2, {"d": "é\u0041"}]}}"#));
        assert!(
            !passes(p, r#"{"a": 1, "b": [1,}"#),
            "invalid JSON in a skipped key"
        );
        assert!(!passes(p, r#"{"a": 1} trailing"#));
        assert!(
            passes(r#"{"data": {"k\"q": ["v"]}}"#, r#"{"k\"q": "v"}"#),
            "escaped keys"
        );
        assert!(
            passes(r#"{"data": ["x"]}"#, r#""x""#),
            "a leaf rule on data keeps it whole"
        );
    }

    #[test]
    fn metadata_fields() {
        let c = criteria(&[
            r#"{"eventSource": ["aws:kinesis"], "awsRegion": ["us-east-2"], "kinesisSchemaVersion": ["1.0"]}"#,
        ]);
        assert!(c.matches(&view(b"x", "1")));
        let ts = criteria(&[
            r#"{"approximateArrivalTimestamp": [{"numeric": [">", 1545084650, "<", 1545084651]}]}"#,
        ]);
        assert!(ts.matches(&view(b"x", "1")));
        let exact_ts = criteria(&[r#"{"approximateArrivalTimestamp": [1545084650.987]}"#]);
        assert!(exact_ts.matches(&view(b"x", "1")));
        let id = criteria(&[
            r#"{"eventID": [{"prefix": "shardId-000000000006:4959"}], "eventSourceARN": [{"suffix": "/lambda-stream"}]}"#,
        ]);
        assert!(id.matches(&view(b"x", "1")));
        let seq = criteria(&[r#"{"sequenceNumber": [{"anything-but": "1"}]}"#]);
        assert!(seq.matches(&view(b"x", "1")));
    }

    #[test]
    fn filters_are_ored_and_none_means_everything() {
        let c = criteria(&[r#"{"data": {"t": ["a"]}}"#, r#"{"data": {"t": ["b"]}}"#]);
        assert!(c.matches(&view(br#"{"t":"a"}"#, "1")));
        assert!(c.matches(&view(br#"{"t":"b"}"#, "1")));
        assert!(!c.matches(&view(br#"{"t":"c"}"#, "1")));
        let none = criteria(&[]);
        assert!(none.is_empty());
        assert!(none.matches(&view(b"anything", "1")));
    }

    #[test]
    fn duplicate_keys_last_one_wins() {
        let p = r#"{"data": {"t": ["a"], "t": ["b"]}}"#;
        assert!(passes(p, r#"{"t": "b"}"#));
        assert!(!passes(p, r#"{"t": "a"}"#));
    }

    #[test]
    fn a_records_duplicate_keys_keep_the_last_value_and_escapes_are_decoded() {
        let p = r#"{"data": {"t": ["b"]}}"#;
        assert!(passes(p, r#"{"t": "a", "t": "b"}"#));
        assert!(!passes(p, r#"{"t": "b", "t": "a"}"#));
        let buy = r#"{"data": {"type": ["buy"], "note": [{"prefix": "é"}]}}"#;
        assert!(passes(
            buy,
            r#"{"t\u0079pe": "b\u0075y", "note": "\u00e9t\u00e9"}"#
        ));
        assert!(!passes(buy, r#"{"type": "b\u0075y!", "note": "été"}"#));
    }

    #[test]
    fn one_key_read_as_a_leaf_by_one_pattern_and_as_an_object_by_another() {
        let c = criteria(&[
            r#"{"data": {"a": [{"exists": false}]}}"#,
            r#"{"data": {"a": {"b": ["x"]}}}"#,
        ]);
        let m = |d: &str| c.matches(&view(d.as_bytes(), "1"));
        assert!(
            m(r#"{"a": {"b": "x"}}"#),
            "the nested pattern reads inside the object"
        );
        assert!(m(r#"{"z": 1}"#), "a missing key");
        assert!(
            m(r#"{"a": {"b": "y"}}"#),
            "an object is no leaf: exists false holds (EventBridge matches leaves only)"
        );
        assert!(!m(r#"{"a": 5}"#));
        assert!(
            m(r#"{"a": [{"b": "y"}, {"b": "x", "c": [1, {"d": 2}]}]}"#),
            "any array element"
        );
    }

    #[test]
    fn invalid_patterns_name_the_problem_and_where() {
        assert!(refused("{not json").contains("filter 1: the pattern is not valid JSON"));
        assert!(refused(r#"["a"]"#).contains("must be a JSON object"));
        let bare = refused(r#"{"data": {"order": {"type": "buy"}}}"#);
        assert!(
            bare.contains("at data.order.type") && bare.contains("[\"buy\"]"),
            "{bare}"
        );
        assert!(refused(r#"{"data": {"t": []}}"#).contains("empty arrays"));
        assert!(refused(r#"{"data": {}}"#).contains("empty objects"));
        assert!(
            refused(r#"{"data": {"t": [{"begins-with": "x"}]}}"#).contains("unknown operator 'begins-with'")
        );
        assert!(refused(r#"{"data": {"t": [{"prefix": "a", "suffix": "b"}]}}"#).contains("exactly one key"));
        assert!(refused(r#"{"data": {"t": [{"prefix": 5}]}}"#).contains("prefix expects a string"));
        assert!(refused(r#"{"data": {"t": [{"exists": "yes"}]}}"#).contains("exists expects true or false"));
        assert!(
            refused(r#"{"data": {"t": [{"numeric": [">", "5"]}]}}"#).contains("must be followed by a number")
        );
        assert!(refused(r#"{"data": {"t": [{"numeric": [">", 1, ">", 2]}]}}"#)
            .contains("one lower and one upper"));
        assert!(
            refused(r#"{"data": {"t": [{"numeric": [">", 5, "<", 1]}]}}"#).contains("above the upper bound")
        );
        assert!(
            refused(r#"{"data": {"t": [{"numeric": ["=", 5, "<", 9]}]}}"#).contains("'=' cannot be combined")
        );
        assert!(refused(r#"{"data": {"t": [{"numeric": ["~", 5]}]}}"#).contains("unknown comparison"));
        assert!(refused(r#"{"data": {"t": [{"anything-but": [true]}]}}"#).contains("strings or numbers only"));
        assert!(
            refused(r#"{"data": {"t": [{"anything-but": {"numeric": [">", 1]}}]}}"#)
                .contains("cannot take 'numeric'")
        );
        assert!(refused(r#"{"$or": [{"a": ["b"]}]}"#).contains("at least two"));
        assert!(refused(r#"{"data": {"t": [["a"]]}}"#).contains("nested arrays"));
        let second = FilterCriteria::compile(&[r#"{"data": {"a": ["b"]}}"#, r#"{"data": {"a": 1}}"#], 5)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(second.starts_with("filter 2: at data.a"), "{second}");
    }

    #[test]
    fn quota_is_five_unless_raised() {
        let six = vec![r#"{"data": {"a": ["b"]}}"#; 6];
        let e = FilterCriteria::compile(&six, DEFAULT_MAX_FILTERS)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("6 filters given but at most 5") && e.contains("--max-filters"),
            "{e}"
        );
        assert!(FilterCriteria::compile(&six, 6).is_ok());
    }

    #[test]
    fn filter_file_takes_the_api_shape() {
        let text = r#"{"Filters": [{"Pattern": "{\"data\": {\"t\": [\"a\"]}}"}, {"Pattern": {"partitionKey": ["k"]}}]}"#;
        let patterns = FilterCriteria::patterns_from_file_text(text).unwrap_or_default();
        assert_eq!(patterns.len(), 2);
        let c = criteria(&patterns.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(c.matches(&view(br#"{"t":"a"}"#, "z")));
        assert!(c.matches(&view(b"raw", "k")));
        let wrong = FilterCriteria::patterns_from_file_text(r#"{"Pattern": "{}"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(wrong.contains("expected {\"Filters\""), "{wrong}");
        let no_pattern = FilterCriteria::patterns_from_file_text(r#"{"Filters": [{"pattern": "{}"}]}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(no_pattern.contains("Filters[0]"), "{no_pattern}");
    }

    #[test]
    fn unknown_top_level_keys_are_reported() {
        let c = criteria(&[r#"{"kinesis": {"partitionKey": ["a"]}, "data": {"x": [1]}}"#]);
        assert_eq!(c.unknown_keys(), vec!["kinesis".to_string()]);
    }
}
