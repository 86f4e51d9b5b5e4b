//! Tokens of DynamoDB's expression language, with their byte spans for syntax-error messages.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word: an attribute name, a keyword (AND, SET, ...) or a function name.
    Ident(String),
    /// `#name`
    Name(String),
    /// `:value`
    Val(String),
    /// A non-negative integer (only valid as a list index).
    Int(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
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
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// A character the language does not have.
    Bad(char),
    /// End of input.
    Eof,
}

/// A token and where it is in the source.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// The token.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

impl Token {
    /// The token as DynamoDB quotes it in messages.
    pub(crate) fn text<'a>(&self, src: &'a str) -> &'a str {
        if self.tok == Tok::Eof {
            "<EOF>"
        } else {
            &src[self.start..self.end]
        }
    }

    /// Whether this is the bare word `kw` (case-insensitive).
    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// Cuts `src` into tokens; always ends with one `Eof`. Unknown characters become `Bad`, so
/// the parser reports them as syntax errors at the right place.
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let word = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| -> usize {
            let mut end = start + c.len_utf8();
            chars.next();
            while let Some(&(i, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = i + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            end
        };
        let (tok, end) = match c {
            'a'..='z' | 'A'..='Z' | '_' => {
                let end = word(&mut chars);
                (Tok::Ident(src[start..end].to_string()), end)
            }
            '0'..='9' => {
                let end = word(&mut chars);
                let text = &src[start..end];
                if text.bytes().all(|b| b.is_ascii_digit()) {
                    (Tok::Int(text.to_string()), end)
                } else {
                    (Tok::Bad(c), end)
                }
            }
            '#' | ':' => {
                let end = word(&mut chars);
                let text = src[start..end].to_string();
                if text.len() == 1 {
                    (Tok::Bad(c), end)
                } else if c == '#' {
                    (Tok::Name(text), end)
                } else {
                    (Tok::Val(text), end)
                }
            }
            _ => {
                chars.next();
                let next = chars.peek().map(|&(_, d)| d);
                let two = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, t: Tok| {
                    chars.next();
                    (t, start + 2)
                };
                match (c, next) {
                    ('<', Some('>')) => two(&mut chars, Tok::Ne),
                    ('<', Some('=')) => two(&mut chars, Tok::Le),
                    ('>', Some('=')) => two(&mut chars, Tok::Ge),
                    ('<', _) => (Tok::Lt, start + 1),
                    ('>', _) => (Tok::Gt, start + 1),
                    ('=', _) => (Tok::Eq, start + 1),
                    ('(', _) => (Tok::LParen, start + 1),
                    (')', _) => (Tok::RParen, start + 1),
                    ('[', _) => (Tok::LBracket, start + 1),
                    (']', _) => (Tok::RBracket, start + 1),
                    (',', _) => (Tok::Comma, start + 1),
                    ('.', _) => (Tok::Dot, start + 1),
                    ('+', _) => (Tok::Plus, start + 1),
                    ('-', _) => (Tok::Minus, start + 1),
                    _ => (Tok::Bad(c), start + c.len_utf8()),
                }
            }
        };
        out.push(Token { tok, start, end });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_every_token_kind() {
        let toks: Vec<Tok> = tokenize("a.#b[10] <> :v AND size(c)>=1,-+<=<>=)")
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            toks,
            vec![
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::Name("#b".into()),
                Tok::LBracket,
                Tok::Int("10".into()),
                Tok::RBracket,
                Tok::Ne,
                Tok::Val(":v".into()),
                Tok::Ident("AND".into()),
                Tok::Ident("size".into()),
                Tok::LParen,
                Tok::Ident("c".into()),
                Tok::RParen,
                Tok::Ge,
                Tok::Int("1".into()),
                Tok::Comma,
                Tok::Minus,
                Tok::Plus,
                Tok::Le,
                Tok::Ne,
                Tok::Eq,
                Tok::RParen,
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn odd_characters_are_bad_tokens_not_panics() {
        let toks = tokenize("a = é$ #");
        assert!(toks.iter().any(|t| t.tok == Tok::Bad('é')));
        assert!(toks.iter().any(|t| t.tok == Tok::Bad('#')));
        assert_eq!(toks.last().map(|t| &t.tok), Some(&Tok::Eof));
    }
}
