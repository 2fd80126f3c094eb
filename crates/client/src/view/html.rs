//! Markup as text, for the one place that draws so many rows that building
//! them node by node is too slow: the queue page's items (the web app parses
//! all new rows of a redraw at once). Every value from the server goes through
//! [`escape`]; a [`Markup`] only ever holds escaped text.

use std::fmt::Write as _;

/// `s` safe as element text and as a double- or single-quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// HTML being written: elements with escaped attributes and text.
#[derive(Default, Debug)]
pub struct Markup(String);

impl Markup {
    pub fn new() -> Self {
        Self::default()
    }

    /// `<tag a="v" ...>`; an attribute whose value is `None` is left out, one
    /// whose value is `Some("")` is written bare (`disabled`).
    pub fn open(&mut self, tag: &str, attrs: &[(&str, Option<&str>)]) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        for (name, value) in attrs {
            match value {
                None => {}
                Some("") => {
                    let _ = write!(self.0, " {name}");
                }
                Some(v) => {
                    let _ = write!(self.0, " {name}=\"{}\"", escape(v));
                }
            }
        }
        self.0.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.0, "</{tag}>");
        self
    }

    pub fn text(&mut self, text: &str) -> &mut Self {
        self.0.push_str(&escape(text));
        self
    }

    /// `<tag attrs>text</tag>`.
    pub fn element(&mut self, tag: &str, attrs: &[(&str, Option<&str>)], text: &str) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_in_text_and_attributes() {
        assert_eq!(
            escape(r#"<img src=x onerror="alert('k')">&amp;"#),
            "&lt;img src=x onerror=&quot;alert(&#39;k&#39;)&quot;&gt;&amp;amp;"
        );
        assert_eq!(escape("plain text · ünïcode"), "plain text · ünïcode");
    }

    #[test]
    fn markup_escapes_every_value_and_leaves_out_absent_attributes() {
        let mut m = Markup::new();
        m.open(
            "td",
            &[
                ("class", Some("num")),
                ("title", None),
                ("hidden", Some("")),
            ],
        )
        .element("a", &[("href", Some("/a\"b"))], "x<y")
        .close("td");
        assert_eq!(
            m.into_string(),
            r#"<td class="num" hidden><a href="/a&quot;b">x&lt;y</a></td>"#
        );
    }
}
