//! `--template FILE`: a JSON document whose string values may hold `{{placeholders}}` that
//! generate a value per record. Parsed once, up front, with line and column in every error;
//! rendered straight to bytes for each record.
//!
//! Syntax (also in the README):
//! - A string that is exactly one placeholder becomes a typed value: `"{{int 1 10}}"` → `7`.
//! - A placeholder inside a longer string is interpolated as text: `"user-{{int 1 99}}"`.
//! - Placeholders: `uuid`, `int MIN MAX`, `float MIN MAX [DECIMALS]`, `choice A|B|C`,
//!   `bool [P_TRUE]`, `timestamp` (ISO 8601, ms, UTC), `epoch_ms`, `counter [START]`, `word`,
//!   `words N`.
//! - `{{` always opens a placeholder; write a literal `{{` as `{\u007b`.

use std::fmt::Write as _;

use rand::seq::IndexedRandom;
use rand::{Rng, RngCore};

use super::clock::{iso_millis, EventClock};
use super::generate::WORDS;

const NAMES: &str = "uuid, int, float, choice, bool, timestamp, epoch_ms, counter, word, words";
const MAX_DEPTH: usize = 128;

/// A template error at a position of the file (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct TemplateError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong and how to write it instead.
    pub message: String,
}

/// One value generator.
#[derive(Debug, Clone, PartialEq)]
enum Gen {
    Uuid,
    Int(i64, i64),
    Float(f64, f64, usize),
    Choice(Vec<String>),
    Bool(f64),
    Timestamp,
    EpochMs,
    Counter(i64),
    Word,
    Words(usize),
}

impl Gen {
    /// Whether the typed form is a JSON string (quoted) rather than a number or boolean.
    fn is_string(&self) -> bool {
        matches!(
            self,
            Self::Uuid | Self::Choice(_) | Self::Timestamp | Self::Word | Self::Words(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Source text of the string, still JSON-escaped (so it can be written as is).
    Lit(String),
    Gen(Gen),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Constant JSON text.
    Raw(String),
    /// Keys are kept as their JSON source text, quotes included.
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    /// A string with placeholders in it.
    Text(Vec<Part>),
    /// A string that is exactly one placeholder: a typed value.
    Value(Gen),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    root: Node,
}

/// What a placeholder draws on for one record.
struct Ctx<'r, R> {
    rng: &'r mut R,
    index: u64,
    now_ms: u64,
}

impl Template {
    /// Parses a template; errors carry line and column.
    pub fn parse(src: &str) -> Result<Self, TemplateError> {
        let mut p = Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
        };
        p.ws();
        let root = p.value(0)?;
        p.ws();
        if p.pos < p.b.len() {
            return Err(p.err(p.pos, "unexpected text after the JSON value"));
        }
        Ok(Self { root: collapse(root) })
    }

    /// Renders record number `index` (0-based): valid JSON.
    pub(crate) fn render<R: RngCore>(&self, rng: &mut R, index: u64, clock: &mut EventClock) -> Vec<u8> {
        let now_ms = clock.tick(rng);
        let mut ctx = Ctx { rng, index, now_ms };
        let mut out = String::with_capacity(256);
        render_node(&self.root, &mut ctx, &mut out);
        out.into_bytes()
    }
}

fn render_node<R: RngCore>(node: &Node, ctx: &mut Ctx<'_, R>, out: &mut String) {
    match node {
        Node::Raw(s) => out.push_str(s),
        Node::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(k);
                out.push(':');
                render_node(v, ctx, out);
            }
            out.push('}');
        }
        Node::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render_node(v, ctx, out);
            }
            out.push(']');
        }
        Node::Text(parts) => {
            out.push('"');
            for part in parts {
                match part {
                    Part::Lit(s) => out.push_str(s),
                    Part::Gen(g) => render_gen(g, ctx, out),
                }
            }
            out.push('"');
        }
        Node::Value(g) => {
            if g.is_string() {
                out.push('"');
                render_gen(g, ctx, out);
                out.push('"');
            } else {
                render_gen(g, ctx, out);
            }
        }
    }
}

/// Writes the value's text. Every text written here needs no JSON escaping: choices come from
/// the (already escaped, backslash-free) source, the rest is digits, letters and punctuation.
fn render_gen<R: RngCore>(g: &Gen, ctx: &mut Ctx<'_, R>, out: &mut String) {
    match g {
        Gen::Uuid => {
            let u = uuid::Builder::from_random_bytes(ctx.rng.random()).into_uuid();
            let _ = write!(out, "{}", u.hyphenated());
        }
        Gen::Int(lo, hi) => {
            let _ = write!(out, "{}", ctx.rng.random_range(*lo..=*hi));
        }
        Gen::Float(lo, hi, dec) => {
            let v = ctx.rng.random_range(*lo..=*hi);
            let _ = write!(out, "{v:.dec$}");
        }
        Gen::Choice(items) => out.push_str(items.choose(ctx.rng).map_or("", String::as_str)),
        Gen::Bool(p) => out.push_str(if ctx.rng.random_bool(*p) { "true" } else { "false" }),
        Gen::Timestamp => out.push_str(&iso_millis(ctx.now_ms)),
        Gen::EpochMs => {
            let _ = write!(out, "{}", ctx.now_ms);
        }
        Gen::Counter(start) => {
            let n = i64::try_from(ctx.index).map_or(i64::MAX, |i| start.saturating_add(i));
            let _ = write!(out, "{n}");
        }
        Gen::Word => out.push_str(WORDS.choose(ctx.rng).copied().unwrap_or("word")),
        Gen::Words(n) => {
            for i in 0..*n {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(WORDS.choose(ctx.rng).copied().unwrap_or("word"));
            }
        }
    }
}

/// Folds constant objects and arrays into one `Raw` so rendering copies them in one go.
fn collapse(node: Node) -> Node {
    match node {
        Node::Object(members) => {
            let members: Vec<(String, Node)> = members.into_iter().map(|(k, v)| (k, collapse(v))).collect();
            if members.iter().all(|(_, v)| matches!(v, Node::Raw(_))) {
                let mut s = String::from("{");
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(k);
                    s.push(':');
                    if let Node::Raw(r) = v {
                        s.push_str(r);
                    }
                }
                s.push('}');
                Node::Raw(s)
            } else {
                Node::Object(members)
            }
        }
        Node::Array(items) => {
            let items: Vec<Node> = items.into_iter().map(collapse).collect();
            if items.iter().all(|v| matches!(v, Node::Raw(_))) {
                let inner: Vec<&str> = items
                    .iter()
                    .map(|v| if let Node::Raw(r) = v { r.as_str() } else { "" })
                    .collect();
                Node::Raw(format!("[{}]", inner.join(",")))
            } else {
                Node::Array(items)
            }
        }
        other => other,
    }
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> TemplateError {
        let before = &self.src[..at.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        TemplateError {
            line,
            column: before[line_start..].chars().count() + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn unexpected(&self) -> TemplateError {
        match self.src[self.pos.min(self.src.len())..].chars().next() {
            None => self.err(self.pos, "unexpected end of the template"),
            Some(c) => self.err(self.pos, format!("unexpected character '{c}'")),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, TemplateError> {
        if depth > MAX_DEPTH {
            return Err(self.err(self.pos, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string(),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected()),
        }
    }

    fn literal(&mut self, word: &str) -> Result<Node, TemplateError> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(Node::Raw(word.to_string()))
        } else {
            Err(self.err(
                self.pos,
                "expected a JSON value (object, array, string, number, true, false or null)",
            ))
        }
    }

    fn number(&mut self) -> Result<Node, TemplateError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos > s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        if !digits(self) {
            return Err(self.err(self.pos, "expected digits"));
        }
        if self.b[int_start] == b'0' && self.pos - int_start > 1 {
            return Err(self.err(int_start, "numbers must not have leading zeros"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.err(self.pos, "expected digits after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.err(self.pos, "expected digits in the exponent"));
            }
        }
        Ok(Node::Raw(self.src[start..self.pos].to_string()))
    }

    fn array(&mut self, depth: usize) -> Result<Node, TemplateError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                _ => return Err(self.err(self.pos, "expected ',' or ']' in the array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node, TemplateError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Node::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err(self.pos, "expected a key in double quotes"));
            }
            let key_start = self.pos;
            let key = match self.string()? {
                Node::Raw(k) => k,
                _ => {
                    return Err(self.err(
                        key_start,
                        "placeholders are not allowed in keys, only in string values",
                    ))
                }
            };
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err(self.pos, "expected ':' after the key"));
            }
            self.pos += 1;
            self.ws();
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::Object(members));
                }
                _ => return Err(self.err(self.pos, "expected ',' or '}' in the object")),
            }
        }
    }

    /// A string: `Raw` (with quotes) when it has no placeholder, `Value` when it is exactly
    /// one, `Text` otherwise.
    fn string(&mut self) -> Result<Node, TemplateError> {
        let start = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut lit_start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.err(start, "string not closed: a '\"' is missing")),
                Some(b'"') => break,
                Some(b'\\') => {
                    let esc = self.pos;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            let hex = self.b.get(self.pos + 1..self.pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.err(esc, "\\u must be followed by 4 hex digits"));
                            }
                            self.pos += 5;
                        }
                        _ => return Err(self.err(esc, "invalid escape in string")),
                    }
                }
                Some(b'{') if self.b.get(self.pos + 1) == Some(&b'{') => {
                    if self.pos > lit_start {
                        parts.push(Part::Lit(self.src[lit_start..self.pos].to_string()));
                    }
                    let at = self.pos;
                    let body_start = at + 2;
                    let rest = &self.src[body_start..];
                    let close = rest
                        .find("}}")
                        .filter(|&c| !rest[..c].contains('"'))
                        .ok_or_else(|| self.err(at, "placeholder not closed: '}}' is missing"))?;
                    let body = &rest[..close];
                    parts.push(Part::Gen(parse_gen(body).map_err(|m| self.err(at, m))?));
                    self.pos = body_start + close + 2;
                    lit_start = self.pos;
                }
                Some(c) if c < 0x20 => {
                    return Err(self.err(
                        self.pos,
                        "control character in a string: write it as an escape (\\n, \\t, ...)",
                    ))
                }
                Some(_) => self.pos += 1,
            }
        }
        let end = self.pos;
        self.pos += 1;
        if parts.is_empty() {
            return Ok(Node::Raw(self.src[start..=end].to_string()));
        }
        if end > lit_start {
            parts.push(Part::Lit(self.src[lit_start..end].to_string()));
        }
        if parts.len() == 1 {
            if let Some(Part::Gen(g)) = parts.pop() {
                return Ok(Node::Value(g));
            }
        }
        Ok(Node::Text(parts))
    }
}

fn parse_gen(body: &str) -> Result<Gen, String> {
    if body.contains('\\') {
        return Err("placeholders cannot contain escapes".into());
    }
    let body = body.trim();
    let (name, rest) = body
        .split_once(char::is_whitespace)
        .map_or((body, ""), |(n, r)| (n, r.trim()));
    let args: Vec<&str> = rest.split_whitespace().collect();
    let no_args = |g: Gen| {
        if args.is_empty() {
            Ok(g)
        } else {
            Err(format!("{{{{{name}}}}} takes no arguments"))
        }
    };
    match name {
        "uuid" => no_args(Gen::Uuid),
        "timestamp" => no_args(Gen::Timestamp),
        "epoch_ms" => no_args(Gen::EpochMs),
        "word" => no_args(Gen::Word),
        "int" => {
            let usage = "{{int MIN MAX}} needs two integers, e.g. {{int 1 100}}";
            let [lo, hi] = args[..] else {
                return Err(usage.into());
            };
            let (Ok(lo), Ok(hi)) = (lo.parse::<i64>(), hi.parse::<i64>()) else {
                return Err(usage.into());
            };
            if lo > hi {
                return Err(format!("{{{{int {lo} {hi}}}}}: MIN is greater than MAX"));
            }
            Ok(Gen::Int(lo, hi))
        }
        "float" => {
            let usage =
                "{{float MIN MAX [DECIMALS]}} needs two numbers and optional decimals (0-10), e.g. {{float 0 100 2}}";
            let (lo, hi, dec) = match args[..] {
                [lo, hi] => (lo, hi, "2"),
                [lo, hi, dec] => (lo, hi, dec),
                _ => return Err(usage.into()),
            };
            let (Ok(lo), Ok(hi), Ok(dec)) = (lo.parse::<f64>(), hi.parse::<f64>(), dec.parse::<usize>())
            else {
                return Err(usage.into());
            };
            if !lo.is_finite() || !hi.is_finite() || dec > 10 {
                return Err(usage.into());
            }
            if lo > hi {
                return Err("{{float MIN MAX}}: MIN is greater than MAX".into());
            }
            Ok(Gen::Float(lo, hi, dec))
        }
        "choice" => {
            let items: Vec<String> = rest.split('|').map(|s| s.trim().to_string()).collect();
            if rest.is_empty() || items.iter().any(String::is_empty) {
                return Err("{{choice A|B|C}} needs non-empty choices separated by '|'".into());
            }
            Ok(Gen::Choice(items))
        }
        "bool" => match args[..] {
            [] => Ok(Gen::Bool(0.5)),
            [p] => match p.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => Ok(Gen::Bool(p)),
                _ => Err("{{bool P}} takes the probability of true, from 0 to 1".into()),
            },
            _ => Err("{{bool [P]}} takes at most one argument".into()),
        },
        "counter" => match args[..] {
            [] => Ok(Gen::Counter(1)),
            [s] => s
                .parse::<i64>()
                .map(Gen::Counter)
                .map_err(|_| "{{counter START}} takes an integer start".to_string()),
            _ => Err("{{counter [START]}} takes at most one argument".into()),
        },
        "words" => match args[..] {
            [n] => match n.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => Ok(Gen::Words(n)),
                _ => Err("{{words N}} takes a count from 1 to 100".into()),
            },
            _ => Err("{{words N}} needs a count, e.g. {{words 3}}".into()),
        },
        "" => Err(format!("empty placeholder: expected one of {NAMES}")),
        other => Err(format!("unknown placeholder '{other}': expected one of {NAMES}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn render_one(src: &str, index: u64) -> serde_json::Value {
        let t = Template::parse(src).expect("parses");
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let bytes = t.render(&mut rng, index, &mut EventClock::new(true));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
    }

    #[test]
    fn typed_values_when_alone_text_when_mixed() {
        let v = render_one(
            r#"{"id":"{{uuid}}","n":"{{int 5 5}}","f":"{{float 1 1 1}}","b":"{{bool 1}}",
                "who":"user-{{int 7 7}}","c":"{{counter}}","c10":"{{counter 10}}",
                "t":"{{timestamp}}","ms":"{{epoch_ms}}","pick":"{{choice red | dark blue}}",
                "w":"{{words 3}}","const":{"a":[1,2.5e3,"x",true,null]}}"#,
            4,
        );
        assert_eq!(v["id"].as_str().map(str::len), Some(36));
        assert_eq!(v["n"], 5);
        assert_eq!(v["f"].as_f64(), Some(1.0));
        assert_eq!(v["b"], true);
        assert_eq!(v["who"], "user-7");
        assert_eq!(v["c"], 5);
        assert_eq!(v["c10"], 14);
        assert!(v["t"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 24));
        assert!(v["ms"].is_u64());
        assert!(matches!(v["pick"].as_str(), Some("red" | "dark blue")));
        assert_eq!(v["w"].as_str().map(|s| s.split(' ').count()), Some(3));
        assert_eq!(v["const"], serde_json::json!({"a":[1,2.5e3,"x",true,null]}));
    }

    #[test]
    fn escapes_survive_and_escaped_braces_are_literal() {
        let v = render_one(
            r#"{"s":"a\"b\\c {\u007b not a placeholder","t":"\t{{int 1 1}}"}"#,
            0,
        );
        assert_eq!(v["s"], "a\"b\\c {{ not a placeholder");
        assert_eq!(v["t"], "\t1");
    }

    #[test]
    fn ranges_are_respected() {
        let t = Template::parse(r#"{"i":"{{int -3 3}}","f":"{{float 0 1 3}}"}"#).expect("parses");
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut clock = EventClock::new(true);
        for i in 0..1000 {
            let v: serde_json::Value =
                serde_json::from_slice(&t.render(&mut rng, i, &mut clock)).expect("json");
            let n = v["i"].as_i64().expect("int");
            assert!((-3..=3).contains(&n));
            let f = v["f"].as_f64().expect("float");
            assert!((0.0..=1.0).contains(&f));
        }
    }

    fn error(src: &str) -> TemplateError {
        Template::parse(src).expect_err("must fail")
    }

    #[test]
    fn errors_have_line_and_column() {
        let e = error("{\n  \"a\": \"{{intt 1 2}}\"\n}");
        assert_eq!((e.line, e.column), (2, 9));
        assert!(e.message.contains("unknown placeholder 'intt'"), "{e}");
        assert!(e.message.contains("int, float"), "{e}");

        let e = error("{\n  \"a\": \"{{int 9 2}}\"}");
        assert_eq!((e.line, e.column), (2, 9));
        assert!(e.message.contains("MIN is greater than MAX"));

        let e = error("{\"a\": 1,\n \"b\" 2}");
        assert_eq!((e.line, e.column), (2, 6));
        assert!(e.message.contains("expected ':'"));

        let e = error("{\"a\": \"{{uuid\"}");
        assert_eq!((e.line, e.column), (1, 8));
        assert!(e.message.contains("'}}' is missing"));

        // Columns count characters, not bytes.
        let e = error("{\"é\": tru}");
        assert_eq!((e.line, e.column), (1, 7));

        let e = error("{\"a\": 1} x");
        assert!(e.message.contains("after the JSON value"));
        let e = error("{\"a\": \"x");
        assert!(e.message.contains("not closed"));
        let e = error("{\"{{uuid}}\": 1}");
        assert!(e.message.contains("not allowed in keys"));
        let e = error("{\"a\": 01}");
        assert!(e.message.contains("leading zeros"));
        let e = error("{\"a\": \"{{choice a||b}}\"}");
        assert!(e.message.contains("choice"));
        let e = error("");
        assert!(e.message.contains("end of the template"));
    }

    #[test]
    fn counter_is_the_record_index_and_seed_reproduces() {
        let t = Template::parse(r#"["{{counter 0}}","{{uuid}}","{{word}}"]"#).expect("parses");
        let run = || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(77);
            let mut clock = EventClock::new(true);
            (0..20)
                .map(|i| t.render(&mut rng, i, &mut clock))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let v: serde_json::Value = serde_json::from_slice(&a[19]).expect("json");
        assert_eq!(v[0], 19);
    }
}
