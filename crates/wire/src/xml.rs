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

/// An element name. Generated encoders pass [`Name`]s, whose tags are written out at
/// compile time ([`name!`]); hand-written envelopes pass `&str`.
pub trait ElementName: Copy {
    fn open(self, buf: &mut String);
    fn close(self, buf: &mut String);
    fn empty(self, buf: &mut String);
    /// Bytes of the open and close tags together.
    fn tags_len(self) -> usize;
}

impl ElementName for &str {
    fn open(self, buf: &mut String) {
        buf.push('<');
        buf.push_str(self);
        buf.push('>');
    }
    fn close(self, buf: &mut String) {
        buf.push_str("</");
        buf.push_str(self);
        buf.push('>');
    }
    fn empty(self, buf: &mut String) {
        buf.push('<');
        buf.push_str(self);
        buf.push_str("/>");
    }
    fn tags_len(self) -> usize {
        2 * self.len() + 5
    }
}

/// An element name with its tags written out: `<vpcId>`, `</vpcId>`, `<vpcId/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name {
    pub open: &'static str,
    pub close: &'static str,
    pub empty: &'static str,
}

impl ElementName for Name {
    fn open(self, buf: &mut String) {
        buf.push_str(self.open);
    }
    fn close(self, buf: &mut String) {
        buf.push_str(self.close);
    }
    fn empty(self, buf: &mut String) {
        buf.push_str(self.empty);
    }
    fn tags_len(self) -> usize {
        self.open.len() + self.close.len()
    }
}

/// The [`Name`] of element `$name`, its tags built at compile time.
#[macro_export]
macro_rules! name {
    ($name:literal) => {
        $crate::xml::Name {
            open: concat!("<", $name, ">"),
            close: concat!("</", $name, ">"),
            empty: concat!("<", $name, "/>"),
        }
    };
}

/// The bytes text must not contain as such: `<`, `>`, `&`, `'`, `"` (quick-xml's
/// escapes) and a carriage return.
const ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'&' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

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

    pub fn start(&mut self, name: impl ElementName) {
        name.open(&mut self.buf);
    }

    pub fn end(&mut self, name: impl ElementName) {
        name.close(&mut self.buf);
    }

    /// `<name>escaped text</name>`. A carriage return is written as `&#13;`: XML parsers
    /// turn a literal one into a line feed.
    pub fn string(&mut self, name: impl ElementName, value: &str) {
        // Most values (ids, states, CIDRs) need no escaping: one scan, one copy.
        if !value.bytes().any(|b| ESCAPED[usize::from(b)]) {
            self.buf.reserve(name.tags_len() + value.len());
            name.open(&mut self.buf);
            self.buf.push_str(value);
            name.close(&mut self.buf);
            return;
        }
        name.open(&mut self.buf);
        let escaped = quick_xml::escape::escape(value);
        if escaped.contains('\r') {
            self.buf.push_str(&escaped.replace('\r', "&#13;"));
        } else {
            self.buf.push_str(&escaped);
        }
        name.close(&mut self.buf);
    }

    pub fn boolean(&mut self, name: impl ElementName, value: bool) {
        self.string(name, if value { "true" } else { "false" });
    }

    pub fn number(&mut self, name: impl ElementName, value: impl std::fmt::Display) {
        self.start(name);
        let _ = write!(self.buf, "{value}");
        self.end(name);
    }

    pub fn timestamp(&mut self, name: impl ElementName, value: DateTime) {
        self.string(name, &value.to_iso8601());
    }

    pub fn blob(&mut self, name: impl ElementName, value: &[u8]) {
        use base64::Engine;
        self.string(name, &base64::engine::general_purpose::STANDARD.encode(value));
    }

    pub fn structure(&mut self, name: impl ElementName, value: &impl XmlEncode) {
        self.start(name);
        value.encode_xml(self);
        self.end(name);
    }

    /// `<name><item>…</item>…</name>`; `entry` writes one entry under the given tag.
    pub fn list<T, N: ElementName, I: ElementName>(
        &mut self,
        name: N,
        item: I,
        values: &[T],
        mut entry: impl FnMut(&mut Self, I, &T),
    ) {
        if values.is_empty() {
            name.empty(&mut self.buf);
            return;
        }
        self.start(name);
        // The first entry's size tells how much room the others need: one allocation for
        // a long list instead of a doubling (and copying) every few entries.
        let before = self.buf.len();
        entry(self, item, &values[0]);
        let first = self.buf.len() - before;
        self.buf.reserve(first.saturating_mul(values.len() - 1) + name.tags_len());
        for v in &values[1..] {
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
        w.list::<String, _, _>("tagSet", "item", &[], |w, n, v| w.string(n, v));
        w.list(crate::name!("ids"), crate::name!("item"), &["1".to_string(), "2".to_string()], |w, n, v| {
            w.string(n, v)
        });
        w.boolean("b", true);
        w.number(crate::name!("n"), 42);
        w.list::<String, _, _>(crate::name!("groupSet"), crate::name!("item"), &[], |w, n, v| w.string(n, v));
        assert_eq!(
            w.into_string(),
            "<a>x&lt;y &amp; &apos;z&apos;</a><tagSet/><ids><item>1</item><item>2</item></ids><b>true</b><n>42</n>\
             <groupSet/>"
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
