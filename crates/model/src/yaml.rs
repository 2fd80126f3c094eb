//! YAML for the queue configuration editor: text to a JSON value and back.
//!
//! A queue's config travels as JSON (`resourceConfig: JSONString`); YAML is
//! only how a person may type it, as in W&B's own editor. This reads the
//! YAML people write for configs (YAML 1.2 core schema): block mappings and
//! sequences, flow `[..]` / `{..}`, plain, quoted and `|` / `>` block
//! scalars, comments, one document; `0644` stays text, as serde_yaml (which
//! reads `launch-config.yaml`) reads it. Anchors, aliases, tags and complex
//! keys are refused with a message rather than half-understood. Every error
//! names the line and column. The printer writes text of several lines as a
//! `|` block and quotes what another YAML reader (YAML 1.1: `yes`, `0b1`)
//! could take for something else. It is ours (not a YAML crate) because the web
//! app ships it: a general YAML library was a tenth of the wasm bundle.

use std::fmt;

use serde_json::{Map, Number, Value};

/// What was wrong with the text, and where (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for YamlError {}

/// Parse one YAML document; an empty document is `null`.
pub fn from_str(text: &str) -> Result<Value, YamlError> {
    let mut p = Parser {
        s: text,
        pos: 0,
        line: 1,
        line_start: 0,
        col: 0,
    };
    p.skip_blank()?;
    if p.at_marker("---") {
        p.skip_marker();
        p.skip_blank()?;
    }
    let value = if p.eof() || p.at_marker("...") {
        Value::Null
    } else {
        p.block_node(0)?
    };
    p.skip_blank()?;
    if p.at_marker("...") {
        p.skip_marker();
        p.skip_blank()?;
    }
    if p.at_marker("---") {
        return Err(p.error("only one YAML document is allowed here"));
    }
    if !p.eof() {
        return Err(p.error(&format!(
            "unexpected `{}`: check this line's indentation",
            p.rest_of_line().trim_end()
        )));
    }
    Ok(value)
}

/// Print a value as block YAML that [`from_str`] reads back to the same
/// value: strings that could read as something else (here or in another
/// YAML library) are quoted, text of several lines is a `|` block.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => write_seq(a, 0, &mut out),
        v => write_scalar_line(v, 0, &mut out),
    }
    out
}

fn write_map(m: &Map<String, Value>, indent: usize, out: &mut String) {
    for (k, v) in m {
        push_indent(out, indent);
        write_str(k, out);
        out.push(':');
        write_value(v, indent, out);
    }
}

fn write_seq(a: &[Value], indent: usize, out: &mut String) {
    for v in a {
        push_indent(out, indent);
        out.push('-');
        match v {
            // The collection's first line goes after "- ", the rest below it.
            Value::Object(m) if !m.is_empty() => nested_after_dash(out, indent, |o| {
                write_map(m, indent + 2, o);
            }),
            Value::Array(a) if !a.is_empty() => nested_after_dash(out, indent, |o| {
                write_seq(a, indent + 2, o);
            }),
            v => {
                out.push(' ');
                write_scalar_line(v, indent, out);
            }
        }
    }
}

fn nested_after_dash(out: &mut String, indent: usize, write: impl FnOnce(&mut String)) {
    let mut inner = String::new();
    write(&mut inner);
    out.push(' ');
    out.push_str(&inner[indent + 2..]);
}

/// After `key:`: a scalar on the same line, a collection below it.
fn write_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(m, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(a, indent + 2, out);
        }
        v => {
            out.push(' ');
            write_scalar_line(v, indent, out);
        }
    }
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A scalar and its line end; a block scalar's lines at `indent + 2`.
fn write_scalar_line(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) if block_is_safe(s) => return write_block(s, indent + 2, out),
        Value::String(s) => write_str(s, out),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
    out.push('\n');
}

/// `|` keeps the lines as they are: fit for text of several lines whose
/// first line does not start with a space (that would need an indentation
/// digit) and with no line of spaces only.
fn block_is_safe(s: &str) -> bool {
    let body = s.trim_end_matches('\n');
    body.contains('\n')
        && !body.trim_start_matches('\n').starts_with(' ')
        && !s.chars().any(|c| c != '\n' && awkward(c))
        && body
            .split('\n')
            .all(|l| l.is_empty() || !l.trim().is_empty())
}

fn write_block(s: &str, indent: usize, out: &mut String) {
    let body = s.trim_end_matches('\n');
    let breaks = s.len() - body.len();
    out.push_str(match breaks {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    // `|+` keeps the blank lines after the text.
    out.extend(std::iter::repeat_n('\n', breaks.saturating_sub(1)));
}

/// Plain when it reads back as the same string, else double-quoted.
fn write_str(s: &str, out: &mut String) {
    if plain_is_safe(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if awkward(c) && (c as u32) <= 0xffff => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if awkward(c) => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters a YAML reader may take as a line break, a byte-order mark
/// or not text at all: never written raw.
fn awkward(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn plain_is_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let (Some(first), second) = (chars.next(), chars.next()) else {
        return false;
    };
    // `-x` is text, `- x` a list item.
    let starts_ok = if first == '-' {
        second.is_some_and(|c| !c.is_whitespace())
    } else {
        !"?:,[]{}#&*!|>'\"%@`~".contains(first)
    };
    starts_ok
        && !s.starts_with(char::is_whitespace)
        && !s.ends_with(char::is_whitespace)
        && !s.ends_with(':')
        && !s.starts_with("---")
        && !s.starts_with("...")
        && ![": ", ":\t", " #", "\t#"].iter().any(|p| s.contains(p))
        && !s.chars().any(awkward)
        && !reads_otherwise_elsewhere(s)
        && matches!(resolve_plain(s), Ok(Value::String(_)))
}

/// Text that other YAML readers (YAML 1.1: PyYAML, W&B's SDK) take as a
/// boolean or a number: `yes`, `off`, `0644`, `0b101`, `12:30`, `1_000`.
fn reads_otherwise_elsewhere(s: &str) -> bool {
    let bool_1_1 = ["y", "n", "yes", "no", "on", "off"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w));
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let numeric = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && unsigned
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoObB_.:+-".contains(c));
    bool_1_1 || numeric
}

/// A plain scalar's meaning (YAML 1.2 core schema).
fn resolve_plain(s: &str) -> Result<Value, &'static str> {
    Ok(match s {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return Err("JSON has no infinity or NaN: quote it to keep it as text");
        }
        _ => match number(s) {
            Some(n) => Value::Number(n),
            None => Value::String(s.to_owned()),
        },
    })
}

fn number(s: &str) -> Option<Number> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let radix = |p: &str, r: u32| {
        let d = s.strip_prefix(p)?;
        u64::from_str_radix(d, r).ok().map(Number::from)
    };
    if s.starts_with("0x") {
        return radix("0x", 16);
    }
    if s.starts_with("0o") {
        return radix("0o", 8);
    }
    // `0644` stays text, as other YAML readers disagree on what it is.
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !leading_zero {
        let unsigned = s.strip_prefix('+').unwrap_or(s);
        if let Ok(i) = unsigned.parse::<i64>() {
            return Some(i.into());
        }
        if let Ok(u) = unsigned.parse::<u64>() {
            return Some(u.into());
        }
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let (mantissa, exp) = match digits.find(['e', 'E']) {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty());
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    if mantissa_ok && exp_ok && (mantissa.contains('.') || exp.is_some()) {
        return s.parse::<f64>().ok().and_then(Number::from_f64);
    }
    None
}

/// What may follow a `:` or `-` indicator: a space, a tab or a line end.
fn separates(c: Option<char>) -> bool {
    matches!(c, None | Some(' ' | '\t' | '\n' | '\r'))
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
    /// Characters since `line_start` (kept, not counted: long lines).
    col: usize,
}

/// A place in the text to come back to.
#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    line: usize,
    line_start: usize,
    col: usize,
}

impl Mark {
    /// `message` about what starts here.
    fn error(self, message: impl Into<String>) -> YamlError {
        YamlError {
            line: self.line,
            column: self.col + 1,
            message: message.into(),
        }
    }

    fn duplicate(self, key: &str) -> YamlError {
        self.error(format!("the key `{key}` appears twice in this mapping"))
    }
}

/// Where a plain scalar stops: block context lets `,[]{}` through.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Block,
    Flow,
}

impl<'a> Parser<'a> {
    fn error(&self, message: &str) -> YamlError {
        self.mark().error(message)
    }

    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn peek_at(&self, skip: usize) -> Option<char> {
        self.s[self.pos..].chars().nth(skip)
    }

    fn column(&self) -> usize {
        self.col
    }

    fn rest_of_line(&self) -> &'a str {
        let rest = &self.s[self.pos..];
        &rest[..rest.find('\n').unwrap_or(rest.len())]
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.line_start = self.pos;
            self.col = 0;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
            col: self.col,
        }
    }

    fn reset(&mut self, m: Mark) {
        (self.pos, self.line, self.line_start, self.col) = (m.pos, m.line, m.line_start, m.col);
    }

    fn skip_marker(&mut self) {
        for _ in 0..3 {
            self.bump();
        }
    }

    /// `---` or `...` alone at the start of a line.
    fn at_marker(&self, marker: &str) -> bool {
        self.pos == self.line_start
            && self.s[self.pos..].starts_with(marker)
            && self.s[self.pos + 3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\n' || c == '\r')
    }

    /// Spaces and a comment up to the end of this line (not the newline).
    fn skip_inline(&mut self) {
        while let Some(' ' | '\t') = self.peek() {
            self.bump();
        }
        if self.peek() == Some('#') {
            while !matches!(self.peek(), None | Some('\n')) {
                self.bump();
            }
        }
    }

    /// Spaces, comments and line breaks; a tab that indents is an error.
    fn skip_blank(&mut self) -> Result<(), YamlError> {
        loop {
            match self.peek() {
                Some(' ' | '\r' | '\n' | '\u{feff}') => {
                    self.bump();
                }
                Some('\t') if self.s[self.line_start..self.pos].trim().is_empty() => {
                    let rest = self.rest_of_line().trim();
                    if rest.is_empty() || rest.starts_with('#') {
                        self.bump();
                    } else {
                        return Err(self.error("a tab can't indent YAML: use spaces"));
                    }
                }
                Some('\t') => {
                    self.bump();
                }
                Some('#') => self.skip_inline(),
                _ => return Ok(()),
            }
        }
    }

    /// After the spaces of this line, is the rest empty or a comment?
    fn line_is_done(&self) -> bool {
        let rest = self.rest_of_line().trim_start_matches([' ', '\t', '\r']);
        rest.is_empty() || rest.starts_with('#')
    }

    fn at_dash_entry(&self) -> bool {
        self.peek() == Some('-') && separates(self.peek_at(1))
    }

    fn refuse_unsupported(&self) -> Result<(), YamlError> {
        let what = match self.peek() {
            Some('&') => "anchors (`&name`)",
            Some('*') => "aliases (`*name`)",
            Some('!') => "tags (`!tag`)",
            Some('?') if separates(self.peek_at(1)) => "complex keys (`? key`)",
            Some('%') if self.pos == self.line_start => "directives (`%YAML`)",
            Some('@' | '`') => {
                return Err(self.error("`@` and `` ` `` are reserved in YAML: quote the value"));
            }
            _ => return Ok(()),
        };
        Err(self.error(&format!(
            "YAML {what} are not supported here: write the value out in full"
        )))
    }

    /// The node starting at the next significant character, whose lines
    /// are indented at least `min` columns.
    fn block_node(&mut self, min: usize) -> Result<Value, YamlError> {
        self.skip_blank()?;
        if self.eof() || self.column() < min || self.at_marker("---") || self.at_marker("...") {
            return Ok(Value::Null);
        }
        let indent = self.column();
        if self.at_dash_entry() {
            return self.block_seq(indent);
        }
        if self.line_has_key()? {
            return self.block_map(indent);
        }
        self.inline_value(min)
    }

    /// Does this line start `key:`?
    fn line_has_key(&mut self) -> Result<bool, YamlError> {
        let save = self.mark();
        let found = match self.peek() {
            Some('"' | '\'') => {
                let line = self.line;
                self.quoted()?;
                self.line == line && self.colon_follows()
            }
            Some('[' | '{') => false,
            _ => {
                self.refuse_unsupported()?;
                self.plain_key_end().is_some()
            }
        };
        self.reset(save);
        Ok(found)
    }

    /// Spaces then `:` and a space or line end.
    fn colon_follows(&mut self) -> bool {
        while let Some(' ' | '\t') = self.peek() {
            self.bump();
        }
        self.peek() == Some(':') && separates(self.peek_at(1))
    }

    /// A plain key on this line: where its `: ` is.
    fn plain_key_end(&self) -> Option<usize> {
        let line = self.rest_of_line();
        let mut prev = ' ';
        for (i, c) in line.char_indices() {
            if c == '#' && (prev == ' ' || prev == '\t') {
                return None;
            }
            if c == ':' && separates(line[i + 1..].chars().next()) {
                return Some(i);
            }
            prev = c;
        }
        None
    }

    fn block_seq(&mut self, indent: usize) -> Result<Value, YamlError> {
        let mut items = Vec::new();
        loop {
            self.bump(); // '-'
            self.skip_inline();
            // Inline (`- a`, `- k: v` whose keys line up) or on the lines below.
            items.push(self.block_node(indent + 1)?);
            self.skip_blank()?;
            if self.eof() || self.column() < indent || self.at_marker("---") {
                break;
            }
            if self.column() > indent {
                return Err(self.error("this line is indented more than the list around it"));
            }
            if !self.at_dash_entry() {
                // A mapping at the same indentation ends the list (`key:\n- a\nnext: b`).
                break;
            }
        }
        Ok(Value::Array(items))
    }

    fn block_map(&mut self, indent: usize) -> Result<Value, YamlError> {
        let mut map = Map::new();
        loop {
            self.refuse_unsupported()?;
            let at = self.mark();
            let key = self.key()?;
            if map.contains_key(&key) {
                return Err(at.duplicate(&key));
            }
            self.bump(); // ':'
            self.skip_inline();
            let value = if self.line_is_done() {
                self.skip_blank()?;
                if !self.eof() && self.column() == indent && self.at_dash_entry() {
                    self.block_seq(indent)?
                } else {
                    self.block_node(indent + 1)?
                }
            } else {
                if self.at_dash_entry() {
                    return Err(self.error("a list must start on the line below its key"));
                }
                let block_scalar = matches!(self.peek(), Some('|' | '>'));
                let v = self.inline_value(indent + 1)?;
                self.skip_inline();
                if !block_scalar && !self.line_is_done() {
                    let rest = self.rest_of_line().trim_end();
                    return Err(self.error(&if rest.starts_with(':') {
                        "a mapping can't start after a key on the same line: put it on the next line, indented".to_owned()
                    } else {
                        format!("unexpected `{rest}` after the value")
                    }));
                }
                v
            };
            map.insert(key, value);
            self.skip_blank()?;
            if self.eof()
                || self.column() < indent
                || self.at_marker("---")
                || self.at_marker("...")
            {
                break;
            }
            if self.column() > indent {
                return Err(self.error("this line is indented more than the keys around it"));
            }
            if self.at_dash_entry() {
                return Err(self.error("a list item where a key was expected"));
            }
            if !self.line_has_key()? {
                return Err(self.error("expected `key: value` at this indentation"));
            }
        }
        Ok(Value::Object(map))
    }

    /// A mapping key up to (not including) its `:`.
    fn key(&mut self) -> Result<String, YamlError> {
        if let Some('"' | '\'') = self.peek() {
            let k = self.quoted()?;
            while let Some(' ' | '\t') = self.peek() {
                self.bump();
            }
            return Ok(k);
        }
        let end = self.pos
            + self
                .plain_key_end()
                .ok_or_else(|| self.error("expected `key: value`"))?;
        let key = self.s[self.pos..end].trim_end().to_owned();
        while self.pos < end {
            self.bump();
        }
        Ok(key)
    }

    /// A scalar or flow collection; plain and quoted scalars may continue
    /// on lines indented at least `min`.
    fn inline_value(&mut self, min: usize) -> Result<Value, YamlError> {
        self.refuse_unsupported()?;
        match self.peek() {
            Some('"' | '\'') => self.quoted().map(Value::String),
            Some('[' | '{') => self.flow(),
            Some('|' | '>') => self.block_scalar(min).map(Value::String),
            _ => self.plain(min, Ctx::Block),
        }
    }

    fn plain(&mut self, min: usize, ctx: Ctx) -> Result<Value, YamlError> {
        let at = self.mark();
        let mut text = self.plain_line(ctx);
        // Continuation lines fold into one string.
        loop {
            let save = self.mark();
            let mut breaks = 0;
            while let Some(c @ (' ' | '\r' | '\n' | '\t')) = self.peek() {
                breaks += usize::from(c == '\n');
                self.bump();
            }
            let more = breaks > 0
                && !self.eof()
                && self.peek() != Some('#')
                && !self.at_marker("---")
                && !self.at_marker("...")
                && match ctx {
                    Ctx::Block => self.column() >= min && self.plain_key_end().is_none(),
                    Ctx::Flow => {
                        !matches!(self.peek(), Some(',' | ']' | '}' | '[' | '{'))
                            && !self.flow_colon()
                    }
                };
            if !more {
                self.reset(save);
                break;
            }
            if breaks == 1 {
                text.push(' ');
            } else {
                text.extend(std::iter::repeat_n('\n', breaks - 1));
            }
            text.push_str(&self.plain_line(ctx));
        }
        if text.is_empty() {
            return Err(self.error("expected a value"));
        }
        resolve_plain(&text).map_err(|m| at.error(m))
    }

    /// At a `:` that separates a flow key from its value.
    fn flow_colon(&self) -> bool {
        self.peek() == Some(':')
            && (separates(self.peek_at(1)) || matches!(self.peek_at(1), Some(',' | ']' | '}')))
    }

    /// The rest of a plain scalar on this line.
    fn plain_line(&mut self, ctx: Ctx) -> String {
        let start = self.pos;
        let mut end = self.pos;
        let mut prev = ' ';
        while let Some(c) = self.peek() {
            let stop = match c {
                '\n' | '\r' => true,
                '#' => prev == ' ' || prev == '\t',
                ':' => match ctx {
                    Ctx::Block => separates(self.peek_at(1)),
                    Ctx::Flow => self.flow_colon(),
                },
                ',' | ']' | '}' | '[' | '{' => ctx == Ctx::Flow,
                _ => false,
            };
            if stop {
                break;
            }
            self.bump();
            if c != ' ' && c != '\t' {
                end = self.pos;
            }
            prev = c;
        }
        // Trailing spaces belong to no value.
        self.s[start..end].to_owned()
    }

    fn quoted(&mut self) -> Result<String, YamlError> {
        let at = self.mark();
        let quote = self.bump().unwrap_or('"');
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(at.error(format!("this {quote}quoted{quote} value is never closed")));
            };
            match c {
                '\'' if quote == '\'' => {
                    if self.peek() == Some('\'') {
                        self.bump();
                        out.push('\'');
                    } else {
                        return Ok(out);
                    }
                }
                '"' if quote == '"' => return Ok(out),
                '\\' if quote == '"' => {
                    if let Some('\n' | '\r') = self.peek() {
                        // An escaped line break joins the lines.
                        self.eat_break_and_indent();
                        continue;
                    }
                    out.push(self.escape()?);
                }
                '\n' | '\r' => {
                    if c == '\r' && self.peek() == Some('\n') {
                        self.bump();
                    }
                    while out.ends_with([' ', '\t']) {
                        out.pop();
                    }
                    let blank = self.eat_break_and_indent();
                    if blank == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', blank));
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// Skip indentation and blank lines; how many blank lines there were.
    fn eat_break_and_indent(&mut self) -> usize {
        let mut blank = 0;
        loop {
            while let Some(' ' | '\t') = self.peek() {
                self.bump();
            }
            match self.peek() {
                Some('\n') => {
                    self.bump();
                    blank += 1;
                }
                Some('\r') => {
                    self.bump();
                }
                _ => return blank,
            }
        }
    }

    fn escape(&mut self) -> Result<char, YamlError> {
        let bad = |p: &Self| p.error("unknown escape in a double-quoted value");
        let c = self.bump().ok_or_else(|| bad(self))?;
        let hex = |p: &mut Self, n: usize| -> Result<char, YamlError> {
            let digits: String = (0..n).filter_map(|_| p.bump()).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| p.error("a \\x, \\u or \\U escape needs hex digits of a character"))
        };
        Ok(match c {
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            't' | '\t' => '\t',
            'n' => '\n',
            'v' => '\u{b}',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            ' ' => ' ',
            '"' => '"',
            '/' => '/',
            '\\' => '\\',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => return hex(self, 2),
            'u' => return hex(self, 4),
            'U' => return hex(self, 8),
            _ => return Err(bad(self)),
        })
    }

    /// `|` (lines kept) or `>` (lines folded), with `-`/`+` and an indent digit.
    fn block_scalar(&mut self, min: usize) -> Result<String, YamlError> {
        let literal = self.bump() == Some('|');
        let mut chomp = ' ';
        let mut explicit = None;
        while let Some(c) = self.peek() {
            match c {
                '-' | '+' if chomp == ' ' => chomp = c,
                '1'..='9' if explicit.is_none() => explicit = c.to_digit(10),
                _ => break,
            }
            self.bump();
        }
        self.skip_inline();
        match self.bump() {
            None => return Ok(String::new()),
            Some('\n') => {}
            Some('\r') if self.peek() == Some('\n') => {
                self.bump();
            }
            Some(_) => {
                return Err(self.error(
                    "after `|` or `>` only `-`, `+`, an indent digit or a comment may follow",
                ));
            }
        }
        let parent = min.saturating_sub(1);
        let mut indent = explicit.map(|d| parent + d as usize);
        let mut lines: Vec<&str> = Vec::new();
        loop {
            let rest = self.rest_of_line();
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            let blank = rest.trim_matches([' ', '\t', '\r']).is_empty();
            let width = match indent {
                Some(w) => w,
                None if blank => {
                    if self.eof() {
                        break;
                    }
                    lines.push("");
                    self.skip_line();
                    continue;
                }
                None => {
                    if spaces < min {
                        break;
                    }
                    indent = Some(spaces);
                    spaces
                }
            };
            if self.eof() || (!blank && spaces < width) {
                break;
            }
            // Spaces beyond the indentation are content, even on a blank line.
            let text = if rest.len() > width {
                &rest[width..]
            } else {
                ""
            };
            lines.push(text.trim_end_matches('\r'));
            self.skip_line();
        }
        // Trailing blank lines are kept only by `+`.
        let kept = lines.iter().rev().take_while(|l| l.is_empty()).count();
        let body = &lines[..lines.len() - kept];
        let mut out = String::new();
        let mut prev: Option<&str> = None;
        let mut empty = 0;
        for l in body {
            if l.is_empty() {
                empty += 1;
                continue;
            }
            let indented = |t: &str| t.starts_with([' ', '\t']);
            // `>` joins neighbouring lines with a space and drops one line
            // break before blank lines, except around more-indented lines.
            let breaks = match prev {
                Some(p) if !literal && !indented(p) && !indented(l) => {
                    if empty == 0 {
                        out.push(' ');
                    }
                    empty
                }
                Some(_) => empty + 1,
                None => empty,
            };
            out.extend(std::iter::repeat_n('\n', breaks));
            out.push_str(l);
            prev = Some(l);
            empty = 0;
        }
        // The text's last line may end the file without a line break.
        let final_break = kept > 0 || self.s[..self.pos].ends_with('\n');
        if !body.is_empty() && final_break {
            match chomp {
                '-' => {}
                '+' => {
                    out.push('\n');
                    out.extend(std::iter::repeat_n('\n', kept));
                }
                _ => out.push('\n'),
            }
        } else if chomp == '+' {
            out.extend(std::iter::repeat_n('\n', kept));
        }
        Ok(out)
    }

    fn skip_line(&mut self) {
        while !matches!(self.bump(), None | Some('\n')) {}
    }

    /// `[a, b]` or `{a: 1}`, across lines if need be.
    fn flow(&mut self) -> Result<Value, YamlError> {
        let at = self.mark();
        let (open, close) = match self.bump() {
            Some('[') => ('[', ']'),
            _ => ('{', '}'),
        };
        let unclosed = at.error(format!("this `{open}` is never closed with `{close}`"));
        let mut items = Vec::new();
        let mut map = Map::new();
        loop {
            self.skip_blank()?;
            match self.peek() {
                None => return Err(unclosed),
                Some(c) if c == close => {
                    self.bump();
                    break;
                }
                _ => {}
            }
            if close == '}' {
                self.refuse_unsupported()?;
                let at = self.mark();
                let key = match self.peek() {
                    Some('"' | '\'') => self.quoted()?,
                    _ => match self.plain(0, Ctx::Flow)? {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        v => v.to_string(),
                    },
                };
                self.skip_blank()?;
                let value = if self.peek() == Some(':') {
                    self.bump();
                    self.skip_blank()?;
                    if matches!(self.peek(), Some(',' | '}')) {
                        Value::Null
                    } else {
                        self.flow_value()?
                    }
                } else {
                    Value::Null
                };
                if map.insert(key.clone(), value).is_some() {
                    return Err(at.duplicate(&key));
                }
            } else {
                let item = self.flow_value()?;
                self.skip_blank()?;
                // `[a: 1]` is a list holding the mapping `{a: 1}`.
                let item = if self.flow_colon() {
                    self.bump();
                    self.skip_blank()?;
                    let value = if matches!(self.peek(), Some(',' | ']')) {
                        Value::Null
                    } else {
                        self.flow_value()?
                    };
                    let key = match item {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        v => v.to_string(),
                    };
                    Value::Object(Map::from_iter([(key, value)]))
                } else {
                    item
                };
                items.push(item);
            }
            self.skip_blank()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(c) if c == close => {}
                None => return Err(unclosed),
                _ => {
                    return Err(self.error(&format!("expected `,` or `{close}`")));
                }
            }
        }
        Ok(if close == ']' {
            Value::Array(items)
        } else {
            Value::Object(map)
        })
    }

    fn flow_value(&mut self) -> Result<Value, YamlError> {
        self.refuse_unsupported()?;
        match self.peek() {
            Some('"' | '\'') => self.quoted().map(Value::String),
            Some('[' | '{') => self.flow(),
            _ => self.plain(0, Ctx::Flow),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn theirs(text: &str) -> Value {
        let v: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        serde_json::to_value(v).unwrap()
    }

    /// Read like a standard YAML library reads the same text.
    #[test]
    fn reads_what_a_yaml_library_reads() {
        let docs = [
            "a: 1\nb: two\nc: 3.5\nd: true\ne: null\nf: ~\ng:\n",
            "env:\n  - A=1\n  - B=2\ngpus: \"{{gpus}}\"\n",
            "# comment\nresource_args:\n  kubernetes:\n    spec:\n      template: {x: 1}\n    metadata:\n      labels: [a, b]\n",
            "list:\n- a\n- b\nnext: c\n",
            "- name: x\n  value: 1\n- name: y\n  value: [1, 2]\n- - nested\n  - more\n",
            "a: 'it''s'\nb: \"tab\\tnew\\nline \\u00e9\"\nc: plain with spaces   # comment\n",
            "url: http://example.com:8080/x\ntime: 12:30\nneg: -4\nhex: 0x1F\noct: 0o17\nexp: 1e3\n",
            "lit: |\n  line one\n  line two\n\nfold: >\n  folded\n  text\n\n  para\nstrip: |-\n  x\nkeep: |+\n  y\n\nz: 1\n",
            "multi: this plain\n  continues here\nq: \"two\n  lines\"\n",
            "---\nflow: {a: [1, {b: c}], 'd': \"e\", f: }\n...\n",
            "k8s:\n  containers:\n    - name: main\n      resources:\n        limits: {nvidia.com/gpu: 1}\n      args: [\"--lr\", 0.1]\n",
            "empty_map: {}\nempty_list: []\nquoted_key: 1\n\"odd key\": 2\n",
            "a:\n  b:\n    c: deep\n  d: e\n",
            "",
            "# only a comment\n",
            "text: über 中文 ✓\n",
            "- 1\n- -2\n- 3.0\n- .5\n- \"\"\n- ''\n",
            // Found by `agrees_with_a_yaml_library`: the last line of a block
            // scalar at the end of the text, and spaces past its indentation.
            "a: |1\n a",
            // Found in review: tabs after `:`, leading zeros, flow values
            // across lines, single pairs in a flow list, CRLF.
            "env:\n  A:\t1\ngpus:\t2\n'q':\t3\nl:\n- a:\t1\nf: {b:\t1}\nt:\t|\n  x\n",
            "mode: 0644\ntag: 007\nzero: 0\nneg: -0\n",
            "a: [a\n b, c]\nm: {k: long\n  text}\n",
            "a: [x: 1, y]\n",
            "crlf: 1\r\nb:\r\n  - x\r\n",
            "1b: |1 # c\n  ",
        ];
        for doc in docs {
            assert_eq!(from_str(doc), Ok(theirs(doc)), "{doc}");
        }
        assert_eq!(from_str(""), Ok(Value::Null));
        assert_eq!(
            from_str("gpus: 2\nimage: x\n"),
            Ok(json!({"gpus": 2, "image": "x"}))
        );
    }

    #[test]
    fn says_where_and_what_is_wrong() {
        let cases = [
            ("a: 1\n  b: 2\n", 2, "indented more"),
            ("a: 1\na: 2\n", 2, "appears twice"),
            ("a: b: c\n", 1, "on the same line"),
            ("a: [1, 2\n", 1, "never closed"),
            ("a: \"open\n", 1, "never closed"),
            ("base: &b {x: 1}\n", 1, "anchors"),
            ("a: *b\n", 1, "aliases"),
            ("a: !!str 1\n", 1, "tags"),
            ("a: 1\n---\nb: 2\n", 2, "one YAML document"),
            ("a:\n\tb: 1\n", 2, "tab"),
            ("a: .inf\n", 1, "infinity"),
            ("a: - b\n", 1, "line below its key"),
            ("a: [b, c]]\n", 1, "unexpected `]` after the value"),
            ("a: \"\\q\"\n", 1, "unknown escape"),
            ("- a\nb: 1\n", 2, "unexpected"),
        ];
        for (doc, line, words) in cases {
            let err = from_str(doc).unwrap_err();
            assert_eq!(err.line, line, "{doc:?}: {err}");
            assert!(err.to_string().contains(words), "{doc:?}: {err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("line {line}, column "))
            );
        }
    }

    #[test]
    fn prints_block_yaml() {
        let v = json!({
            "env": ["A=1", {"k": "v", "n": [1, 2]}, [true, null]],
            "gpus": "{{gpus}}",
            "empty": {},
            "s": ["true", "1", "", " pad", "a: b", "x #y", "- dash", "--lr", "ok text"],
            "elsewhere": ["yes", "0644", "0b101", "12:30", "8Gi", "\u{2028}"],
            "script": "set -e\npython train.py\n",
            "kept": ["a\nb", "a\nb\n\n", "a\n\n", " lead\nx"],
        });
        let text = to_string(&v);
        assert_eq!(
            text,
            r#"env:
  - A=1
  - k: v
    "n":
      - 1
      - 2
  - - true
    - null
gpus: "{{gpus}}"
empty: {}
s:
  - "true"
  - "1"
  - ""
  - " pad"
  - "a: b"
  - "x #y"
  - "- dash"
  - --lr
  - ok text
elsewhere:
  - "yes"
  - "0644"
  - "0b101"
  - "12:30"
  - 8Gi
  - "\u2028"
script: |
  set -e
  python train.py
kept:
  - |-
    a
    b
  - |+
    a
    b

  - "a\n\n"
  - " lead\nx"
"#
        );
        assert_eq!(from_str(&text), Ok(v.clone()));
        assert_eq!(theirs(&text), v);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let text = "[a-z0-9 :#'\"\\-{}\\[\\],.&*!|>%@\n\té\u{a0}\u{2028}]{0,12}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(Value::from),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(text, inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn yamlish() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(YAMLISH.chars().collect::<Vec<_>>()),
            0..60,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    const YAMLISH: &str = "ab01 :#'\"\\-{}[],.&*!|>+%~\n\t";

    const PIECES: &[&str] = &[
        "a", "b: ", "c:", "- ", "\n", "  ", " ", "1", "2.5", "'x y'", "\"q\\n\"", "[", "]", "{",
        "}", ", ", " # c", "|", ">", "-", "+", "\n  ", "\n    ", "true", "~", "x:y", "\n\n",
    ];

    proptest! {
        /// What we print, we and a standard YAML library read back unchanged.
        #[test]
        fn printed_yaml_reads_back(v in json_value()) {
            let text = to_string(&v);
            prop_assert_eq!(from_str(&text), Ok(v.clone()), "{}", text);
            prop_assert_eq!(theirs(&text), v, "{}", text);
        }

        /// Any text gets a value or an error with a place, never a panic
        /// or a hang (the editor parses on every keystroke).
        #[test]
        fn any_text_gets_an_answer(text in yamlish()) {
            if let Err(e) = from_str(&text) {
                prop_assert!(e.line >= 1 && e.column >= 1);
            }
        }

        /// Where a standard YAML library and we both read a mapping, it is
        /// the same mapping.
        #[test]
        fn agrees_with_a_yaml_library(parts in prop::collection::vec(prop::sample::select(PIECES), 0..20)) {
            let text = parts.concat();
            let theirs = serde_yaml::from_str::<serde_yaml::Value>(&text)
                .ok()
                .and_then(|v| serde_json::to_value(v).ok());
            if let (Some(t @ Value::Object(_)), Ok(ours)) = (theirs, from_str(&text)) {
                prop_assert_eq!(ours, t, "{:?}", text);
            }
        }
    }
}
