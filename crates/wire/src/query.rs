//! EC2 query protocol input: a form body (and URL query string) into typed requests.
//!
//! The form is first folded into a tree keyed by the dot-separated parts of each key
//! (`Filter.1.Value.2` → `Filter` → `1` → `Value` → `2`). Generated [`FromQuery`] impls
//! then *take* the members they know out of the tree; whatever is left afterwards was
//! not a parameter of the operation and is refused with `UnknownParameter`, as EC2 does.
//!
//! Rules (what botocore and aws-sdk-rust send):
//! * form decoding turns both `+` and `%20` into a space;
//! * lists are `Prefix.N…` with N counted from 1 (gaps are allowed, order is by N);
//!   aws-sdk-rust writes an empty nested list as a bare `Prefix=`, which is an empty list;
//! * booleans are `true`/`false`, integers plain decimal, timestamps RFC 3339: anything
//!   else is `InvalidParameterValue`, never a silent default.

use std::collections::BTreeMap;

use crate::datetime::DateTime;
use crate::enums::WireEnum;

/// Why a query request could not be decoded. The EC2 protocol module maps each to an
/// AWS error code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The body or query string is not valid form encoding (or not UTF-8).
    #[error("The query string is malformed: {0}")]
    Malformed(String),
    /// The same key was sent twice.
    #[error("The parameter {0} was given more than once.")]
    Duplicate(String),
    /// A key the operation does not have.
    #[error("The parameter {0} is not recognized")]
    UnknownParameter(String),
    /// A value of the wrong type (`DryRun=yes`, `MaxResults=ten`).
    #[error("Value ({value}) for parameter {param} is invalid. {expected}")]
    InvalidValue { param: String, value: String, expected: &'static str },
}

/// One key segment of the form tree.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Node {
    /// The value sent for exactly this key, if any.
    pub value: Option<String>,
    pub children: BTreeMap<String, Node>,
}

impl Node {
    /// Builds the tree from decoded `(key, value)` pairs.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Node, QueryError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut root = Node::default();
        for (key, value) in pairs {
            let key = key.as_ref();
            if key.is_empty() {
                continue; // a stray `&&` or a trailing `&`
            }
            let mut node = &mut root;
            for part in key.split('.') {
                node = node.children.entry(part.to_string()).or_default();
            }
            if node.value.is_some() {
                return Err(QueryError::Duplicate(key.to_string()));
            }
            node.value = Some(value.into());
        }
        Ok(root)
    }

    /// Decodes an `application/x-www-form-urlencoded` body plus the URL query string.
    pub fn from_form(body: &[u8], query: Option<&str>) -> Result<Node, QueryError> {
        let mut pairs = Vec::new();
        for source in [query.map(str::as_bytes).unwrap_or_default(), body] {
            check_percent_escapes(source)?;
            // Escapes and UTF-8 were checked, so the lossy decoding below loses nothing.
            for (k, v) in form_urlencoded::parse(source) {
                pairs.push((k.into_owned(), v.into_owned()));
            }
        }
        Node::from_pairs(pairs)
    }

    /// Removes and returns the value of a top-level key such as `Action`.
    pub fn take_value(&mut self, key: &str) -> Option<String> {
        let mut child = self.children.remove(key)?;
        let value = child.value.take();
        if !child.children.is_empty() {
            // `Action.1=…`: put the rest back so it is reported as unknown.
            self.children.insert(key.to_string(), Node { value: None, children: child.children });
        }
        value
    }

    /// The first key left in this subtree, as a full dotted path below `prefix`.
    fn first_leftover(&self, prefix: &str) -> Option<String> {
        if self.value.is_some() {
            return Some(prefix.to_string());
        }
        for (k, child) in &self.children {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            if let Some(p) = child.first_leftover(&path) {
                return Some(p);
            }
        }
        None
    }
}

/// A `%` not followed by two hex digits, or bytes that are not UTF-8 once decoded, make
/// the form malformed (form_urlencoded itself is lenient about both).
fn check_percent_escapes(source: &[u8]) -> Result<(), QueryError> {
    let mut i = 0;
    while i < source.len() {
        if source[i] == b'%' {
            let ok = source.len() > i + 2 && source[i + 1].is_ascii_hexdigit() && source[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(QueryError::Malformed(format!("invalid percent-escape at byte {i}")));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    for pair in source.split(|&b| b == b'&') {
        let decoded: Vec<u8> = percent_encoding::percent_decode(pair).collect();
        if std::str::from_utf8(&decoded).is_err() {
            return Err(QueryError::Malformed("the request is not valid UTF-8".into()));
        }
    }
    Ok(())
}

/// Implemented by every generated EC2 input structure.
pub trait FromQuery: Sized {
    fn from_query(d: &mut QueryDecoder, node: &mut Node) -> Result<Self, QueryError>;
}

/// Decodes a whole request: `root` is the form tree after `Action` and `Version` were
/// taken out. Anything the operation does not define is refused.
pub fn decode<T: FromQuery>(root: Node) -> Result<T, QueryError> {
    let mut d = QueryDecoder::default();
    d.structure(root, T::from_query)
}

/// Tracks the key path for error messages while generated code walks the tree.
#[derive(Debug, Default)]
pub struct QueryDecoder {
    path: Vec<String>,
}

impl QueryDecoder {
    fn key(&self) -> String {
        self.path.join(".")
    }

    fn invalid(&self, value: &str, expected: &'static str) -> QueryError {
        QueryError::InvalidValue { param: self.key(), value: value.to_string(), expected }
    }

    /// Takes member `key` out of `parent` and decodes it with `f`; `None` when absent.
    pub fn field<T>(
        &mut self,
        parent: &mut Node,
        key: &str,
        f: impl FnOnce(&mut Self, Node) -> Result<T, QueryError>,
    ) -> Result<Option<T>, QueryError> {
        let Some(node) = parent.children.remove(key) else {
            return Ok(None);
        };
        self.path.push(key.to_string());
        let result = f(self, node);
        self.path.pop();
        result.map(Some)
    }

    /// A scalar leaf: its value, refusing keys below it (`CidrBlock.1=…`).
    fn leaf(&mut self, node: Node) -> Result<String, QueryError> {
        if let Some(extra) = (Node { value: None, children: node.children }).first_leftover(&self.key()) {
            return Err(QueryError::UnknownParameter(extra));
        }
        // `Key` with children only and no value cannot happen here: children were refused.
        Ok(node.value.unwrap_or_default())
    }

    pub fn string(&mut self, node: Node) -> Result<String, QueryError> {
        self.leaf(node)
    }

    pub fn boolean(&mut self, node: Node) -> Result<bool, QueryError> {
        let v = self.leaf(node)?;
        if v.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if v.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err(self.invalid(&v, "Expecting 'true' or 'false'."))
        }
    }

    pub fn integer(&mut self, node: Node) -> Result<i32, QueryError> {
        let v = self.leaf(node)?;
        parse_decimal(&v).and_then(|n| i32::try_from(n).ok()).ok_or_else(|| self.invalid(&v, "Expecting an integer."))
    }

    pub fn long(&mut self, node: Node) -> Result<i64, QueryError> {
        let v = self.leaf(node)?;
        parse_decimal(&v).ok_or_else(|| self.invalid(&v, "Expecting an integer."))
    }

    pub fn double(&mut self, node: Node) -> Result<f64, QueryError> {
        let v = self.leaf(node)?;
        v.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| self.invalid(&v, "Expecting a number."))
    }

    pub fn float(&mut self, node: Node) -> Result<f32, QueryError> {
        let v = self.leaf(node)?;
        v.parse::<f32>().ok().filter(|f| f.is_finite()).ok_or_else(|| self.invalid(&v, "Expecting a number."))
    }

    pub fn timestamp(&mut self, node: Node) -> Result<DateTime, QueryError> {
        let v = self.leaf(node)?;
        DateTime::parse_iso8601(&v)
            .ok_or_else(|| self.invalid(&v, "Expecting an ISO 8601 timestamp such as 2030-01-02T03:04:05Z."))
    }

    pub fn blob(&mut self, node: Node) -> Result<Vec<u8>, QueryError> {
        use base64::Engine;
        let v = self.leaf(node)?;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_bytes())
            .map_err(|_| self.invalid(&v, "Expecting base64."))
    }

    pub fn enumeration<E: WireEnum>(&mut self, node: Node) -> Result<E, QueryError> {
        Ok(E::from_wire(&self.leaf(node)?))
    }

    /// `Prefix.1…`, `Prefix.2…`: entries ordered by index. A bare `Prefix=` (what
    /// aws-sdk-rust sends for an empty nested list) is an empty list.
    pub fn list<T>(
        &mut self,
        node: Node,
        mut f: impl FnMut(&mut Self, Node) -> Result<T, QueryError>,
    ) -> Result<Vec<T>, QueryError> {
        if let Some(v) = &node.value
            && !v.is_empty()
        {
            return Err(QueryError::UnknownParameter(self.key()));
        }
        let mut entries: Vec<(u32, String, Node)> = Vec::with_capacity(node.children.len());
        for (k, child) in node.children {
            match parse_index(&k) {
                Some(i) => entries.push((i, k, child)),
                None => {
                    let path = format!("{}.{k}", self.key());
                    return Err(QueryError::UnknownParameter(path));
                }
            }
        }
        entries.sort_by_key(|(i, _, _)| *i);
        let mut out = Vec::with_capacity(entries.len());
        for (_, k, child) in entries {
            self.path.push(k);
            let item = f(self, child);
            self.path.pop();
            out.push(item?);
        }
        Ok(out)
    }

    /// A nested structure: `f` takes its members out, whatever remains is unknown.
    pub fn structure<T>(
        &mut self,
        mut node: Node,
        f: impl FnOnce(&mut Self, &mut Node) -> Result<T, QueryError>,
    ) -> Result<T, QueryError> {
        let value = f(self, &mut node)?;
        if let Some(v) = node.value.take()
            && !v.is_empty()
        {
            return Err(QueryError::UnknownParameter(self.key()));
        }
        if let Some(extra) = node.first_leftover(&self.key()) {
            return Err(QueryError::UnknownParameter(extra));
        }
        Ok(value)
    }
}

/// A list index: a positive decimal without leading zeros.
fn parse_index(s: &str) -> Option<u32> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&n: &u32| n >= 1)
}

/// Plain decimal, optional leading `-`, no whitespace, no `+`, no exponent.
fn parse_decimal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_and_percent20_are_spaces() {
        let n = Node::from_form(b"A=a+b&B=a%20b&C=a%2Bb", None).unwrap();
        assert_eq!(n.children["A"].value.as_deref(), Some("a b"));
        assert_eq!(n.children["B"].value.as_deref(), Some("a b"));
        assert_eq!(n.children["C"].value.as_deref(), Some("a+b"));
    }

    #[test]
    fn query_string_and_body_merge_and_duplicates_are_refused() {
        let n = Node::from_form(b"Version=2016-11-15", Some("Action=DescribeVpcs")).unwrap();
        assert_eq!(n.children.len(), 2);
        assert!(matches!(Node::from_form(b"A=1&A=2", None), Err(QueryError::Duplicate(k)) if k == "A"));
    }

    #[test]
    fn malformed_forms() {
        assert!(matches!(Node::from_form(b"A=%zz", None), Err(QueryError::Malformed(_))));
        assert!(matches!(Node::from_form(b"A=%ff%fe", None), Err(QueryError::Malformed(_))));
        assert!(matches!(Node::from_form(b"A=%4", None), Err(QueryError::Malformed(_))));
    }

    #[test]
    fn lists_are_ordered_by_index_and_bare_prefix_is_empty() {
        let mut root = Node::from_form(b"V.10=c&V.2=b&V.1=a&E=", None).unwrap();
        let mut d = QueryDecoder::default();
        let v = d.field(&mut root, "V", |d, n| d.list(n, |d, n| d.string(n))).unwrap();
        assert_eq!(v.unwrap(), vec!["a", "b", "c"]);
        let e = d.field(&mut root, "E", |d, n| d.list(n, |d, n| d.string(n))).unwrap();
        assert_eq!(e.unwrap(), Vec::<String>::new());
    }

    #[test]
    fn bad_list_index_is_an_unknown_parameter() {
        for body in ["V.0=a", "V.x=a", "V.01=a", "V=a"] {
            let mut root = Node::from_form(body.as_bytes(), None).unwrap();
            let mut d = QueryDecoder::default();
            let err = d.field(&mut root, "V", |d, n| d.list(n, |d, n| d.string(n))).unwrap_err();
            assert!(matches!(err, QueryError::UnknownParameter(_)), "{body}: {err:?}");
        }
    }

    #[test]
    fn scalars_are_strict() {
        let mut root = Node::from_form(b"B=yes&I=1.5&J=+5&K=-7&T=2030-01-02T03:04:05Z", None).unwrap();
        let mut d = QueryDecoder::default();
        let b = d.field(&mut root, "B", |d, n| d.boolean(n)).unwrap_err();
        assert_eq!(b.to_string(), "Value (yes) for parameter B is invalid. Expecting 'true' or 'false'.");
        assert!(d.field(&mut root, "I", |d, n| d.integer(n)).is_err());
        assert!(d.field(&mut root, "J", |d, n| d.integer(n)).is_err());
        assert_eq!(d.field(&mut root, "K", |d, n| d.integer(n)).unwrap(), Some(-7));
        assert!(d.field(&mut root, "T", |d, n| d.timestamp(n)).unwrap().is_some());
    }

    #[test]
    fn leftovers_are_unknown_parameters() {
        let root = Node::from_form(b"Known=1&Filter.1.Nme=x", None).unwrap();
        let err = decode::<Probe>(root).unwrap_err();
        assert_eq!(err, QueryError::UnknownParameter("Filter.1.Nme".into()));
        let root = Node::from_form(b"Known.1=1", None).unwrap();
        let err = decode::<Probe>(root).unwrap_err();
        assert_eq!(err, QueryError::UnknownParameter("Known.1".into()));
    }

    #[derive(Debug)]
    struct Probe;
    impl FromQuery for Probe {
        fn from_query(d: &mut QueryDecoder, node: &mut Node) -> Result<Self, QueryError> {
            d.field(node, "Known", |d, n| d.string(n))?;
            Ok(Probe)
        }
    }

    proptest::proptest! {
        /// Any list of strings survives the trip through botocore's encoding (`quote_plus`
        /// style, 1-based indices) and back.
        #[test]
        fn string_lists_round_trip(values in proptest::collection::vec(".{0,12}", 0..8)) {
            let mut body = String::new();
            for (i, v) in values.iter().enumerate() {
                let enc: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
                body.push_str(&format!("L.{}={}&", i + 1, enc));
            }
            let mut root = Node::from_form(body.as_bytes(), None).unwrap();
            let mut d = QueryDecoder::default();
            let got = d.field(&mut root, "L", |d, n| d.list(n, |d, n| d.string(n))).unwrap();
            proptest::prop_assert_eq!(got.unwrap_or_default(), values);
        }
    }
}
