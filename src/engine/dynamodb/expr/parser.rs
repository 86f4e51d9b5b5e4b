//! Recursive-descent parsers for condition, update and projection expressions.
//!
//! Errors carry DynamoDB's wording without the `Invalid XExpression: ` prefix, which the caller
//! adds. A syntax error names the offending token and the text around it; semantic errors
//! (reserved words, undefined placeholders, wrong operand types) are reported only when the
//! whole expression parsed, as DynamoDB does.

use super::lexer::{tokenize, Tok, Token};
use super::reserved::is_reserved;
use super::{overlap_error, path_str, Action};
use super::{CmpOp, Cond, Operand, Path, PathElem, Placeholders, SetOperand, SetValue};
use crate::engine::dynamodb::value::Value;

/// Conditions and function calls nested deeper than this are refused rather than risking the
/// stack (the operator limit alone would still allow 300 levels).
const MAX_DEPTH: usize = 100;

/// DynamoDB's limit on the length of one expression string, in bytes.
pub(crate) const MAX_EXPRESSION_BYTES: usize = 4096;

/// DynamoDB's limit on operators and functions in one expression.
pub(crate) const MAX_OPERATORS: usize = 300;

/// What kind of expression is parsed: `=` is a comparison (an operator) only in conditions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Condition,
    Update,
    Projection,
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    ph: &'a mut Placeholders,
    /// The first semantic error seen; reported only when parsing succeeds.
    deferred: Option<String>,
    depth: usize,
}

/// Parses a ConditionExpression / FilterExpression / KeyConditionExpression.
pub(crate) fn parse_condition(src: &str, ph: &mut Placeholders) -> Result<Cond, String> {
    let mut p = Parser::new(src, ph, Kind::Condition)?;
    let cond = p.or()?;
    p.expect_end()?;
    p.finish(cond)
}

/// Parses an UpdateExpression into its actions, in order.
pub(crate) fn parse_update(src: &str, ph: &mut Placeholders) -> Result<Vec<Action>, String> {
    let mut p = Parser::new(src, ph, Kind::Update)?;
    let mut actions = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    loop {
        let section = ["SET", "REMOVE", "ADD", "DELETE"]
            .into_iter()
            .find(|kw| p.peek().is_kw(kw));
        let Some(section) = section else {
            return Err(p.syntax_error());
        };
        if seen.contains(&section) {
            return Err(format!(
                "The \"{section}\" section can only be used once in an update expression;"
            ));
        }
        seen.push(section);
        p.pos += 1;
        loop {
            let path = p.path()?;
            let action = match section {
                "SET" => {
                    p.expect(&Tok::Eq)?;
                    Action::Set(path, p.set_value()?)
                }
                "REMOVE" => Action::Remove(path),
                _ => {
                    let value = p.literal_value()?;
                    let ty = value.as_ref().map(Value::type_name);
                    let allowed = match section {
                        "ADD" => matches!(ty, Some("N" | "SS" | "NS" | "BS")),
                        _ => matches!(ty, Some("SS" | "NS" | "BS")),
                    };
                    if let (false, Some(ty)) = (allowed, ty) {
                        p.defer(format!(
                            "Incorrect operand type for operator or function; operator: {section}, operand type: {}",
                            operand_type_name(ty)
                        ));
                    }
                    let value = value.unwrap_or(Value::Null);
                    if section == "ADD" {
                        Action::Add(path, value)
                    } else {
                        Action::Delete(path, value)
                    }
                }
            };
            actions.push(action);
            if p.peek().tok == Tok::Comma {
                p.pos += 1;
            } else {
                break;
            }
        }
        if p.peek().tok == Tok::Eof {
            break;
        }
    }
    if let Some(e) = overlap_error(actions.iter().map(Action::path)) {
        p.defer(e);
    }
    p.finish(actions)
}

/// Parses a ProjectionExpression into its paths.
pub(crate) fn parse_projection(src: &str, ph: &mut Placeholders) -> Result<Vec<Path>, String> {
    let mut p = Parser::new(src, ph, Kind::Projection)?;
    let mut paths = vec![p.path()?];
    while p.peek().tok == Tok::Comma {
        p.pos += 1;
        paths.push(p.path()?);
    }
    p.expect_end()?;
    if let Some(e) = overlap_error(paths.iter()) {
        p.defer(e);
    }
    p.finish(paths)
}

fn operand_type_name(ty: &str) -> &'static str {
    match ty {
        "S" => "STRING",
        "N" => "NUMBER",
        "B" => "BINARY",
        "NULL" => "NULL",
        "BOOL" => "BOOLEAN",
        "L" => "LIST",
        "M" => "MAP",
        "SS" => "STRING SET",
        "NS" => "NUMBER SET",
        _ => "BINARY SET",
    }
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, ph: &'a mut Placeholders, kind: Kind) -> Result<Self, String> {
        if src.trim().is_empty() {
            return Err("The expression can not be empty;".to_string());
        }
        // DynamoDB's limits, checked before any parsing so that no expression can make the
        // parser or the evaluator recurse or allocate without bound.
        if src.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                src.len()
            ));
        }
        let toks = tokenize(src);
        let operators = count_operators(&toks, kind);
        if operators > MAX_OPERATORS {
            return Err(format!(
                "The expression contains too many operators; operator count: {operators}"
            ));
        }
        Ok(Self {
            src,
            toks,
            pos: 0,
            ph,
            deferred: None,
            depth: 0,
        })
    }

    fn finish<T>(self, out: T) -> Result<T, String> {
        match self.deferred {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn defer(&mut self, msg: String) {
        if self.deferred.is_none() {
            self.deferred = Some(msg);
        }
    }

    fn peek(&self) -> &Token {
        // tokenize always ends with Eof and pos never passes it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.toks[(self.pos + ahead).min(self.toks.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    /// `Syntax error; token: "x", near: "a x b"`: the token with its neighbours.
    fn syntax_error(&self) -> String {
        let at = self.pos.min(self.toks.len() - 1);
        let tok = &self.toks[at];
        let from = if at > 0 {
            self.toks[at - 1].start
        } else {
            tok.start
        };
        let to = if tok.tok == Tok::Eof {
            tok.end
        } else {
            self.toks.get(at + 1).map_or(tok.end, |t| t.end)
        };
        format!(
            "Syntax error; token: \"{}\", near: \"{}\"",
            tok.text(self.src),
            &self.src[from..to]
        )
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), String> {
        if &self.peek().tok == tok {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn expect_end(&self) -> Result<(), String> {
        if self.peek().tok == Tok::Eof {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn is_condition_keyword(t: &Token) -> bool {
        ["AND", "OR", "NOT", "BETWEEN", "IN"].iter().any(|kw| t.is_kw(kw))
    }

    /// A document path: `a`, `#n`, `a.b[0].#c`.
    fn path(&mut self) -> Result<Path, String> {
        let mut path = vec![PathElem::Attr(self.path_name()?)];
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.pos += 1;
                    path.push(PathElem::Attr(self.path_name()?));
                }
                Tok::LBracket => {
                    self.pos += 1;
                    let Tok::Int(n) = &self.peek().tok else {
                        return Err(self.syntax_error());
                    };
                    let Ok(index) = n.parse::<usize>() else {
                        return Err(self.syntax_error());
                    };
                    self.pos += 1;
                    self.expect(&Tok::RBracket)?;
                    path.push(PathElem::Index(index));
                }
                _ => return Ok(path),
            }
        }
    }

    fn path_name(&mut self) -> Result<String, String> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(name) if !Self::is_condition_keyword(&t) => {
                self.pos += 1;
                if is_reserved(name) {
                    self.defer(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {name}"
                    ));
                }
                Ok(name.clone())
            }
            Tok::Name(ph) => {
                self.pos += 1;
                match self.ph.names.get(ph).cloned() {
                    Some(real) => {
                        self.ph.used_names.insert(ph.clone());
                        Ok(real)
                    }
                    None => {
                        self.defer(format!(
                            "An expression attribute name used in the document path is not defined; attribute name: {ph}"
                        ));
                        Ok(ph.clone())
                    }
                }
            }
            _ => Err(self.syntax_error()),
        }
    }

    /// A `:value` placeholder; `None` (with a deferred error) when it is not defined.
    fn literal_value(&mut self) -> Result<Option<Value>, String> {
        let t = self.peek().clone();
        let Tok::Val(ph) = &t.tok else {
            return Err(self.syntax_error());
        };
        self.pos += 1;
        match self.ph.values.get(ph).cloned() {
            Some(v) => {
                self.ph.used_values.insert(ph.clone());
                Ok(Some(v))
            }
            None => {
                self.defer(format!(
                    "An expression attribute value used in expression is not defined; attribute value: {ph}"
                ));
                Ok(None)
            }
        }
    }

    // ---- conditions ----

    fn or(&mut self) -> Result<Cond, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("The expression is nested too deeply;".to_string());
        }
        let mut left = self.and()?;
        while self.peek().is_kw("OR") {
            self.pos += 1;
            let right = self.and()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.not()?;
        while self.peek().is_kw("AND") {
            self.pos += 1;
            let right = self.not()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek().is_kw("NOT") {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("The expression is nested too deeply;".to_string());
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, String> {
        if self.peek().tok == Tok::LParen {
            self.pos += 1;
            let c = self.or()?;
            self.expect(&Tok::RParen)?;
            return Ok(c);
        }
        if let (Tok::Ident(name), Tok::LParen) = (&self.peek().tok, &self.peek_at(1).tok) {
            let name = name.clone();
            if name != "size" {
                return self.function_condition(&name);
            }
        }
        let left = self.operand()?;
        self.comparison_tail(left)
    }

    fn comparison_tail(&mut self, left: Operand) -> Result<Cond, String> {
        let op = match self.peek().tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.operand()?;
            if let (Operand::Path(a), Operand::Path(b)) = (&left, &right) {
                if a == b {
                    self.defer(format!(
                        "The first operand must be distinct from the remaining operands for this operator or function; operator: {}, first operand: {}",
                        cmp_symbol(op),
                        path_str(a)
                    ));
                }
            }
            return Ok(Cond::Cmp(left, op, right));
        }
        if self.peek().is_kw("BETWEEN") {
            self.pos += 1;
            let lo = self.operand()?;
            if !self.peek().is_kw("AND") {
                return Err(self.syntax_error());
            }
            self.pos += 1;
            let hi = self.operand()?;
            if let (Operand::Value(l), Operand::Value(h)) = (&lo, &hi) {
                if let Some(e) = between_bounds_error(l, h) {
                    self.defer(e);
                }
            }
            return Ok(Cond::Between(left, lo, hi));
        }
        if self.peek().is_kw("IN") {
            self.pos += 1;
            self.expect(&Tok::LParen)?;
            let mut list = vec![self.operand()?];
            while self.peek().tok == Tok::Comma {
                self.pos += 1;
                list.push(self.operand()?);
            }
            self.expect(&Tok::RParen)?;
            return Ok(Cond::In(left, list));
        }
        if let Operand::Size(_) = left {
            if matches!(self.peek().tok, Tok::Eof | Tok::RParen) || Self::is_condition_keyword(self.peek()) {
                return Err(
                    "The function is not allowed to be used this way in an expression; function: size"
                        .to_string(),
                );
            }
        }
        Err(self.syntax_error())
    }

    /// An operand: path, `:value` or `size(path)`.
    fn operand(&mut self) -> Result<Operand, String> {
        self.enter()?;
        let out = self.operand_inner();
        self.depth -= 1;
        out
    }

    /// Counts one level of nesting; refuses past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("The expression is nested too deeply;".to_string());
        }
        Ok(())
    }

    fn operand_inner(&mut self) -> Result<Operand, String> {
        if let (Tok::Ident(name), Tok::LParen) = (&self.peek().tok, &self.peek_at(1).tok) {
            let name = name.clone();
            if name == "size" {
                let args = self.call_args()?;
                return match args.as_slice() {
                    [Operand::Path(p)] => Ok(Operand::Size(p.clone())),
                    [Operand::Value(v)] => {
                        if matches!(v.type_name(), "N" | "BOOL" | "NULL") {
                            Err(format!(
                                "Incorrect operand type for operator or function; operator or function: size, operand type: {}",
                                v.type_name()
                            ))
                        } else {
                            Err("Operator or function requires a document path; operator or function: size".to_string())
                        }
                    }
                    _ => Err(format!(
                        "Incorrect number of operands for operator or function; operator or function: size, number of operands: {}",
                        args.len()
                    )),
                };
            }
            return Err(if is_condition_function(&name) {
                format!("The function is not allowed to be used this way in an expression; function: {name}")
            } else {
                format!("Invalid function name; function: {name}")
            });
        }
        match self.peek().tok {
            Tok::Val(_) => Ok(Operand::Value(self.literal_value()?.unwrap_or(Value::Null))),
            _ => Ok(Operand::Path(self.path()?)),
        }
    }

    fn call_args(&mut self) -> Result<Vec<Operand>, String> {
        self.advance(); // function name
        self.expect(&Tok::LParen)?;
        let mut args = vec![self.operand()?];
        while self.peek().tok == Tok::Comma {
            self.pos += 1;
            args.push(self.operand()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(args)
    }

    fn function_condition(&mut self, name: &str) -> Result<Cond, String> {
        let arity = match name {
            "attribute_exists" | "attribute_not_exists" => 1,
            "attribute_type" | "begins_with" | "contains" => 2,
            _ if is_update_function(name) => {
                return Err(format!(
                    "The function is not allowed in a condition expression; function: {name}"
                ))
            }
            _ => return Err(format!("Invalid function name; function: {name}")),
        };
        let mut args = self.call_args()?;
        if args.len() != arity {
            return Err(format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                args.len()
            ));
        }
        let second = if arity == 2 { args.pop() } else { None };
        let first = args.pop().unwrap_or(Operand::Value(Value::Null));
        let needs_path =
            || format!("Operator or function requires a document path; operator or function: {name}");
        Ok(match (name, first, second) {
            ("attribute_exists", Operand::Path(p), _) => Cond::Exists(p),
            ("attribute_not_exists", Operand::Path(p), _) => Cond::NotExists(p),
            ("attribute_exists" | "attribute_not_exists", _, _) => return Err(needs_path()),
            ("attribute_type", Operand::Path(p), Some(t)) => {
                match &t {
                    Operand::Value(Value::S(s)) => {
                        if !["S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"].contains(&s.as_str()) {
                            self.defer(format!(
                                "Invalid attribute type name found; type: {s}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                            ));
                        }
                    }
                    Operand::Value(v) => self.defer(format!(
                        "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {}",
                        v.type_name()
                    )),
                    _ => self.defer(
                        "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
                            .to_string(),
                    ),
                }
                Cond::AttrType(p, t)
            }
            ("attribute_type", _, _) => return Err(needs_path()),
            ("begins_with", a, Some(b)) => {
                for op in [&a, &b] {
                    if let Operand::Value(v) = op {
                        if !matches!(v, Value::S(_) | Value::B(_)) {
                            self.defer(format!(
                                "Incorrect operand type for operator or function; operator or function: begins_with, operand type: {}",
                                v.type_name()
                            ));
                        }
                    }
                }
                Cond::BeginsWith(a, b)
            }
            (_, a, Some(b)) => Cond::Contains(a, b),
            _ => return Err(self.syntax_error()),
        })
    }

    // ---- update SET values ----

    fn set_value(&mut self) -> Result<SetValue, String> {
        let left = self.set_operand()?;
        match self.peek().tok {
            Tok::Plus | Tok::Minus => {
                let plus = self.advance().tok == Tok::Plus;
                let right = self.set_operand()?;
                for op in [&left, &right] {
                    if let SetOperand::Value(v) = op {
                        if !matches!(v, Value::N(_)) {
                            self.defer(format!(
                                "Incorrect operand type for operator or function; operator or function: {}, operand type: {}",
                                if plus { "+" } else { "-" },
                                v.type_name()
                            ));
                        }
                    }
                }
                Ok(if plus {
                    SetValue::Plus(left, right)
                } else {
                    SetValue::Minus(left, right)
                })
            }
            _ => Ok(SetValue::Operand(left)),
        }
    }

    fn set_operand(&mut self) -> Result<SetOperand, String> {
        self.enter()?;
        let out = self.set_operand_inner();
        self.depth -= 1;
        out
    }

    fn set_operand_inner(&mut self) -> Result<SetOperand, String> {
        if let (Tok::Ident(name), Tok::LParen) = (&self.peek().tok, &self.peek_at(1).tok) {
            let name = name.clone();
            self.advance();
            self.advance();
            let result = match name.as_str() {
                "if_not_exists" => {
                    let path = match self.set_operand()? {
                        SetOperand::Path(p) => p,
                        _ => {
                            return Err(
                                "Operator or function requires a document path; operator or function: if_not_exists"
                                    .to_string(),
                            )
                        }
                    };
                    self.expect(&Tok::Comma)?;
                    let fallback = self.set_operand()?;
                    SetOperand::IfNotExists(path, Box::new(fallback))
                }
                "list_append" => {
                    let a = self.set_operand()?;
                    self.expect(&Tok::Comma)?;
                    let b = self.set_operand()?;
                    for op in [&a, &b] {
                        if let SetOperand::Value(v) = op {
                            if !matches!(v, Value::L(_)) {
                                self.defer(format!(
                                    "Incorrect operand type for operator or function; operator or function: list_append, operand type: {}",
                                    v.type_name()
                                ));
                            }
                        }
                    }
                    SetOperand::ListAppend(Box::new(a), Box::new(b))
                }
                other if is_condition_function(other) || other == "size" => {
                    return Err(format!(
                        "The function is not allowed in an update expression; function: {other}"
                    ))
                }
                other => return Err(format!("Invalid function name; function: {other}")),
            };
            if self.peek().tok != Tok::RParen {
                let mut n = 2;
                while self.peek().tok == Tok::Comma {
                    self.pos += 1;
                    self.set_operand()?;
                    n += 1;
                }
                if self.peek().tok == Tok::RParen {
                    return Err(format!(
                        "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {n}"
                    ));
                }
            }
            self.expect(&Tok::RParen)?;
            return Ok(result);
        }
        match self.peek().tok {
            Tok::Val(_) => Ok(SetOperand::Value(self.literal_value()?.unwrap_or(Value::Null))),
            _ => Ok(SetOperand::Path(self.path()?)),
        }
    }
}

/// Operators and functions as DynamoDB counts them against [`MAX_OPERATORS`]: comparisons,
/// `AND`/`OR`/`NOT`/`BETWEEN`/`IN`, `+`/`-` and every function call.
fn count_operators(toks: &[Token], kind: Kind) -> usize {
    let mut n = 0;
    for (i, t) in toks.iter().enumerate() {
        let counted = match &t.tok {
            Tok::Eq => kind == Kind::Condition,
            Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::Plus | Tok::Minus => true,
            Tok::Ident(_) => {
                Parser::is_condition_keyword(t) || toks.get(i + 1).is_some_and(|next| next.tok == Tok::LParen)
            }
            _ => false,
        };
        n += usize::from(counted);
    }
    n
}

fn is_condition_function(name: &str) -> bool {
    matches!(
        name,
        "attribute_exists" | "attribute_not_exists" | "attribute_type" | "begins_with" | "contains" | "size"
    )
}

fn is_update_function(name: &str) -> bool {
    matches!(name, "if_not_exists" | "list_append")
}

fn cmp_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn between_bounds_error(lo: &Value, hi: &Value) -> Option<String> {
    let show = |v: &Value| {
        let j = v.to_json();
        let inner = j
            .get(v.type_name())
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .unwrap_or_default();
        format!("AttributeValue: {{{}:{inner}}}", v.type_name())
    };
    if lo.type_name() != hi.type_name() {
        return Some(format!(
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {}, upper bound operand: {}",
            show(lo),
            show(hi)
        ));
    }
    if super::eval::compare_scalars(lo, hi) == Some(std::cmp::Ordering::Greater) {
        return Some(format!(
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {}, upper bound operand: {}",
            show(lo),
            show(hi)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dynamodb::number::Number;

    fn ph() -> Placeholders {
        let mut p = Placeholders::default();
        p.names.insert("#s".into(), "status".into());
        p.values
            .insert(":n".into(), Value::N(Number::parse("5").expect("n")));
        p.values.insert(":s".into(), Value::S("x".into()));
        p
    }

    fn cond(src: &str) -> Result<Cond, String> {
        parse_condition(src, &mut ph())
    }

    #[test]
    fn precedence_is_not_and_or() {
        let c = cond("a = :n OR b = :n AND NOT c = :n").expect("parses");
        let Cond::Or(_, right) = c else {
            panic!("OR at top: {c:?}")
        };
        let Cond::And(_, not) = *right else {
            panic!("AND under OR")
        };
        assert!(matches!(*not, Cond::Not(_)));
        assert!(cond("(a = :n OR b = :n) AND attribute_exists(#s)").is_ok());
        assert!(cond("a BETWEEN :n AND :n").is_ok());
        assert!(cond("a IN (:n, :s)").is_ok());
        assert!(cond("size(a.b[2]) > :n").is_ok());
        assert!(cond("begins_with(a, :s) AND contains(b, :s)").is_ok());
    }

    #[test]
    fn syntax_errors_point_at_the_token() {
        assert_eq!(
            cond("a = = :n").expect_err("bad"),
            "Syntax error; token: \"=\", near: \"= = :n\""
        );
        assert_eq!(
            cond("a = :n AND").expect_err("bad"),
            "Syntax error; token: \"<EOF>\", near: \"AND\""
        );
        assert_eq!(
            cond("a $ :n").expect_err("bad"),
            "Syntax error; token: \"$\", near: \"a $ :n\""
        );
        assert_eq!(cond("").expect_err("bad"), "The expression can not be empty;");
    }

    #[test]
    fn semantic_errors_use_dynamodb_wording() {
        assert_eq!(
            cond("status = :n").expect_err("reserved"),
            "Attribute name is a reserved keyword; reserved keyword: status"
        );
        assert_eq!(
            cond("#x = :n").expect_err("undefined"),
            "An expression attribute name used in the document path is not defined; attribute name: #x"
        );
        assert_eq!(
            cond("a = :zz").expect_err("undefined"),
            "An expression attribute value used in expression is not defined; attribute value: :zz"
        );
        assert_eq!(
            cond("foo(a)").expect_err("unknown fn"),
            "Invalid function name; function: foo"
        );
        assert_eq!(
            cond("begins_with(a)").expect_err("arity"),
            "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"
        );
        assert_eq!(
            cond("begins_with(a, :n)").expect_err("type"),
            "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
        );
        assert_eq!(
            cond("attribute_exists(:n)").expect_err("path"),
            "Operator or function requires a document path; operator or function: attribute_exists"
        );
    }

    #[test]
    fn updates_parse_all_sections() {
        let mut p = ph();
        let actions = parse_update(
            "SET a = if_not_exists(a, :n) + :n, b = list_append(b, c) REMOVE d ADD e :n DELETE f :n",
            &mut p,
        );
        // DELETE with a number is a type error.
        assert_eq!(
            actions.expect_err("delete N"),
            "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"
        );
        let actions = parse_update("set a = :n, b = a - :n remove c, d add e :n", &mut ph()).expect("ok");
        assert_eq!(actions.len(), 5);
        assert_eq!(
            parse_update("SET a = :n SET b = :n", &mut ph()).expect_err("twice"),
            "The \"SET\" section can only be used once in an update expression;"
        );
        assert_eq!(
            parse_update("SET a = :n REMOVE a.b", &mut ph()).expect_err("overlap"),
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
        );
        assert_eq!(
            parse_update("SET a :n", &mut ph()).expect_err("syntax"),
            "Syntax error; token: \":n\", near: \"a :n\""
        );
    }

    #[test]
    fn projections_and_unused_placeholders() {
        let mut p = ph();
        let paths = parse_projection("a, #s.b[1]", &mut p).expect("ok");
        assert_eq!(paths.len(), 2);
        assert_eq!(
            p.unused_error().as_deref(),
            Some("Value provided in ExpressionAttributeValues unused in expressions: keys: {:n, :s}")
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let src = format!("{}a = :n{}", "(".repeat(5000), ")".repeat(5000));
        assert!(cond(&src).is_err());
        let src = format!("{}a = :n", "NOT ".repeat(5000));
        assert!(cond(&src).is_err());
    }

    #[test]
    fn expressions_over_4_kb_are_refused_before_parsing() {
        let src = format!("{}a{}", "size(".repeat(5000), ")".repeat(5000));
        let err = cond(&format!("{src} = :n")).expect_err("too long");
        assert_eq!(
            err,
            "Expression size has exceeded the maximum allowed size; expression size: 30006"
        );
        let at_limit = format!("a{} = :n", "b".repeat(MAX_EXPRESSION_BYTES - 6));
        assert_eq!(at_limit.len(), MAX_EXPRESSION_BYTES);
        assert!(cond(&at_limit).is_ok());
    }

    #[test]
    fn more_than_300_operators_are_refused() {
        let chain = |n: usize| {
            let terms: Vec<&str> = std::iter::repeat_n("a = :n", n).collect();
            terms.join(" AND ")
        };
        // 150 comparisons + 149 ANDs = 299; 151 + 150 = 301.
        assert!(cond(&chain(150)).is_ok());
        assert_eq!(
            cond(&chain(151)).expect_err("too many"),
            "The expression contains too many operators; operator count: 301"
        );
        let mut ph = ph();
        let sets: Vec<String> = (0..301).map(|i| format!("a{i} = :n")).collect();
        assert!(parse_update(&format!("SET {}", sets.join(",")), &mut ph).is_ok());
    }

    #[test]
    fn nested_function_calls_within_the_limits_are_an_error_not_a_stack_overflow() {
        let src = format!("{}a{} = :n", "size(".repeat(250), ")".repeat(250));
        assert!(src.len() < MAX_EXPRESSION_BYTES);
        assert_eq!(
            cond(&src).expect_err("too deep"),
            "The expression is nested too deeply;"
        );
        let mut ph = ph();
        let src = format!("SET a = {}b{}", "if_not_exists(".repeat(200), ", :n)".repeat(200));
        assert!(parse_update(&src, &mut ph).is_err());
    }
}
