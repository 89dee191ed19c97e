//! EC2 query protocol output: typed results into XML.
//!
//! Element names come from the model's `locationName` (generated [`XmlEncode`] impls),
//! lists are a wrapper element with one `<item>` per entry (aws-sdk-rust accepts
//! nothing else), absent members are omitted, booleans are `true`/`false`, timestamps
//! `2019-08-16T09:27:35.000Z`, and text is escaped with quick-xml.

use std::fmt::Write as _;

use crate::datetime::DateTime;

/// Implemented by every generated EC2 output structure: writes its members.
pub trait XmlEncode {
    fn encode_xml(&self, w: &mut XmlWriter);
}

/// Builds an XML document in a `String`.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self { buf: String::with_capacity(4096) }
    }

    pub fn into_string(self) -> String {
        self.buf
    }

    pub fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub fn start(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    pub fn end(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// `<name>escaped text</name>`. A carriage return is written as `&#13;`: XML parsers
    /// turn a literal one into a line feed.
    pub fn string(&mut self, name: &str, value: &str) {
        // Most values (ids, states, CIDRs) need no escaping: one scan, one copy.
        if !value.bytes().any(|b| matches!(b, b'<' | b'>' | b'&' | b'\'' | b'"' | b'\r')) {
            self.buf.reserve(2 * name.len() + value.len() + 5);
            self.start(name);
            self.buf.push_str(value);
            self.end(name);
            return;
        }
        self.start(name);
        let escaped = quick_xml::escape::escape(value);
        if escaped.contains('\r') {
            self.buf.push_str(&escaped.replace('\r', "&#13;"));
        } else {
            self.buf.push_str(&escaped);
        }
        self.end(name);
    }

    pub fn boolean(&mut self, name: &str, value: bool) {
        self.string(name, if value { "true" } else { "false" });
    }

    pub fn number(&mut self, name: &str, value: impl std::fmt::Display) {
        self.start(name);
        let _ = write!(self.buf, "{value}");
        self.end(name);
    }

    pub fn timestamp(&mut self, name: &str, value: DateTime) {
        self.string(name, &value.to_iso8601());
    }

    pub fn blob(&mut self, name: &str, value: &[u8]) {
        use base64::Engine;
        self.string(name, &base64::engine::general_purpose::STANDARD.encode(value));
    }

    pub fn structure(&mut self, name: &str, value: &impl XmlEncode) {
        self.start(name);
        value.encode_xml(self);
        self.end(name);
    }

    /// `<name><item>…</item>…</name>`; `entry` writes one entry under the given tag.
    pub fn list<T>(&mut self, name: &str, item: &str, values: &[T], mut entry: impl FnMut(&mut Self, &str, &T)) {
        if values.is_empty() {
            self.buf.push('<');
            self.buf.push_str(name);
            self.buf.push_str("/>");
            return;
        }
        self.start(name);
        for v in values {
            entry(self, item, v);
        }
        self.end(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_writes_empty_lists_as_empty_elements() {
        let mut w = XmlWriter::new();
        w.string("a", "x<y & 'z'");
        w.list::<String>("tagSet", "item", &[], |w, n, v| w.string(n, v));
        w.list("ids", "item", &["1".to_string(), "2".to_string()], |w, n, v| w.string(n, v));
        w.boolean("b", true);
        w.number("n", 42);
        assert_eq!(
            w.into_string(),
            "<a>x&lt;y &amp; &apos;z&apos;</a><tagSet/><ids><item>1</item><item>2</item></ids><b>true</b><n>42</n>"
        );
    }

    proptest::proptest! {
        /// Any text (XML 1.0 characters) comes back unchanged through an XML parser.
        #[test]
        fn text_round_trips_through_a_parser(text in "[\\t\\n\\r\\x20-\\u{D7FF}\\u{E000}-\\u{FFFD}]{0,40}") {
            let mut w = XmlWriter::new();
            w.string("v", &text);
            let xml = w.into_string();
            let mut reader = quick_xml::Reader::from_str(&xml);
            let mut got = String::new();
            loop {
                match reader.read_event().unwrap() {
                    quick_xml::events::Event::Text(t) => got.push_str(&t.unescape().unwrap()),
                    quick_xml::events::Event::Eof => break,
                    _ => {}
                }
            }
            proptest::prop_assert_eq!(got, text);
        }
    }
}
