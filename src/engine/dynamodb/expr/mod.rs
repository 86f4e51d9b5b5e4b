//! DynamoDB expressions: the syntax tree shared by condition, filter, key-condition, update and
//! projection expressions (and by the legacy parameters, which are translated into it).
//!
//! `lexer` cuts the text into tokens, `parser` builds the trees below (resolving `#name` and
//! `:value` placeholders as it goes), `eval` decides conditions and projects items, `update`
//! applies update actions.

pub(crate) mod eval;
pub(crate) mod lexer;
pub(crate) mod parser;
pub(crate) mod reserved;
pub(crate) mod update;

use std::collections::{BTreeMap, BTreeSet};

use super::value::Value;

/// One step of a document path: `a`, `.b`, `[3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathElem {
    /// A map key (or the top-level attribute name).
    Attr(String),
    /// A list index.
    Index(usize),
}

/// A document path: top-level attribute first.
pub(crate) type Path = Vec<PathElem>;

/// Renders a path the way DynamoDB's messages do: `[a, b, [0]]`.
pub(crate) fn path_str(path: &[PathElem]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|p| match p {
            PathElem::Attr(a) => a.clone(),
            PathElem::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Something a condition compares: an attribute, a literal or `size(path)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// The value at a document path (absent when the item has none).
    Path(Path),
    /// A literal from ExpressionAttributeValues.
    Value(Value),
    /// `size(path)`.
    Size(Path),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A condition (ConditionExpression, FilterExpression, KeyConditionExpression, Expected, ...).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    /// `a <op> b`
    Cmp(Operand, CmpOp, Operand),
    /// `a BETWEEN lo AND hi`
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, ...)`
    In(Operand, Vec<Operand>),
    /// `x AND y`
    And(Box<Cond>, Box<Cond>),
    /// `x OR y`
    Or(Box<Cond>, Box<Cond>),
    /// `NOT x`
    Not(Box<Cond>),
    /// `attribute_exists(path)`
    Exists(Path),
    /// `attribute_not_exists(path)`
    NotExists(Path),
    /// `attribute_type(path, :t)`
    AttrType(Path, Operand),
    /// `begins_with(a, b)`
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`
    Contains(Operand, Operand),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SetValue {
    /// A single operand.
    Operand(SetOperand),
    /// `a + b` (numbers).
    Plus(SetOperand, SetOperand),
    /// `a - b` (numbers).
    Minus(SetOperand, SetOperand),
}

/// An operand of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SetOperand {
    /// The current value at a path (must exist).
    Path(Path),
    /// A literal.
    Value(Value),
    /// `if_not_exists(path, fallback)`.
    IfNotExists(Path, Box<SetOperand>),
    /// `list_append(a, b)`.
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

/// One action of an update.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// `SET path = value`
    Set(Path, SetValue),
    /// `REMOVE path`
    Remove(Path),
    /// `ADD path :v` (number addition or set union; the legacy form also appends to lists).
    Add(Path, Value),
    /// `DELETE path :set` (set difference; the legacy form without a value removes).
    Delete(Path, Value),
}

impl Action {
    /// The path this action writes.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Action::Set(p, _) | Action::Remove(p) | Action::Add(p, _) | Action::Delete(p, _) => p,
        }
    }
}

/// Placeholders available to a request's expressions, and which of them were used.
#[derive(Debug, Default)]
pub(crate) struct Placeholders {
    /// ExpressionAttributeNames.
    pub names: BTreeMap<String, String>,
    /// ExpressionAttributeValues.
    pub values: BTreeMap<String, Value>,
    /// Names referenced so far.
    pub used_names: BTreeSet<String>,
    /// Values referenced so far.
    pub used_values: BTreeSet<String>,
}

impl Placeholders {
    /// DynamoDB's complaint about placeholders no expression used, if any.
    pub(crate) fn unused_error(&self) -> Option<String> {
        let unused_names: Vec<&str> = self
            .names
            .keys()
            .filter(|k| !self.used_names.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused_names.is_empty() {
            return Some(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                unused_names.join(", ")
            ));
        }
        let unused_values: Vec<&str> = self
            .values
            .keys()
            .filter(|k| !self.used_values.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused_values.is_empty() {
            return Some(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused_values.join(", ")
            ));
        }
        None
    }
}

/// DynamoDB's complaint when two paths of one update or projection overlap, if any do.
pub(crate) fn overlap_error<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Option<String> {
    let paths: Vec<&Path> = paths.into_iter().collect();
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[..i] {
            let n = a.len().min(b.len());
            if a[..n] == b[..n] {
                return Some(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    path_str(b),
                    path_str(a)
                ));
            }
        }
    }
    None
}
