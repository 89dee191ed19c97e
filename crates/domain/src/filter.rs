//! The EC2 filter engine.
//!
//! AWS's rules (EC2 `Filter` documentation, "List and filter using the CLI and API"):
//! * different filters are ANDed, the values of one filter are ORed;
//! * names and values are case-sensitive;
//! * values may use `*` (any run of characters, also none) and `?` (exactly one
//!   character); a backslash makes the next character literal (`\*`, `\?`, `\\`);
//! * `tag:<Key>` matches the value of tag `<Key>`, `tag-key` matches any tag key, and
//!   `tag-value` (documented until 2018, still sent by clients) any tag's value;
//! * a filter name the operation does not document is refused (`InvalidParameterValue`,
//!   "The filter 'x' is invalid"), as are too many filters or values
//!   (`FilterLimitExceeded`);
//! * older spellings that EC2 still accepts and widely used clients send (`isDefault`,
//!   `cidr-block` for `DescribeVpcs`) are aliases of the documented name they mean,
//!   listed per operation in its [`FilterSchema`] with the evidence in
//!   `docs/DECISIONS.md`; nothing else is accepted.
//!
//! A resource answers filters through [`Filterable`]: for a filter name it offers each
//! of its values (a VPC has one CIDR per association, so `cidr-block-association.cidr-block`
//! has several), and a filter matches when any offered value matches any pattern. Tags
//! come beside the resource, as anything that is a [`TagPair`].

/// At most this many filters per request. AWS documents 50 for its describe calls.
pub const MAX_FILTERS: usize = 50;
/// At most this many values per filter. AWS documents 200.
pub const MAX_VALUES_PER_FILTER: usize = 200;

/// A filter as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: Option<String>,
    pub values: Vec<String>,
}

impl Filter {
    pub fn new(name: &str, values: &[&str]) -> Filter {
        Filter { name: Some(name.to_string()), values: values.iter().map(|v| v.to_string()).collect() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("The filter '{0}' is invalid")]
    UnknownName(String),
    #[error("The filter name of Filter.{0} is missing")]
    MissingName(usize),
    #[error("The filter '{0}' has no values; give at least one Filter.N.Value.M")]
    NoValues(String),
    #[error("The request uses too many filters ({0}); the limit is {MAX_FILTERS}")]
    TooManyFilters(usize),
    #[error("The filter '{0}' has too many values ({1}); the limit is {MAX_VALUES_PER_FILTER}")]
    TooManyValues(String, usize),
}

/// The filters one describe operation accepts.
#[derive(Debug, Clone, Copy)]
pub struct FilterSchema {
    /// Documented names, e.g. `"cidr-block-association.cidr-block"`.
    pub names: &'static [&'static str],
    /// (alias, documented name): older spellings EC2 accepts for a documented name.
    pub aliases: &'static [(&'static str, &'static str)],
    /// Whether `tag:<Key>`, `tag-key` and `tag-value` apply (resources that carry tags).
    pub tags: bool,
}

/// A tag as filters see it.
pub trait TagPair {
    fn key(&self) -> &str;
    fn value(&self) -> &str;
}

/// A resource as filters see it.
pub trait Filterable {
    /// Calls `matches` with each value the resource has for `name` (one of its schema's
    /// names), stopping at the first `true`. Returns whether any call returned `true`.
    fn any_value(&self, name: &str, matches: &mut dyn FnMut(&str) -> bool) -> bool;
}

#[derive(Debug, Clone)]
enum Selector {
    Field(&'static str),
    /// `tag:<Key>`: the value of that tag.
    TagValue(String),
    /// `tag-key`: any tag's key.
    AnyTagKey,
    /// `tag-value`: any tag's value.
    AnyTagValue,
}

#[derive(Debug, Clone)]
struct Compiled {
    key: Selector,
    patterns: Vec<Pattern>,
}

/// Validated filters, ready to match.
#[derive(Debug, Clone, Default)]
pub struct FilterSet {
    filters: Vec<Compiled>,
}

impl FilterSet {
    /// Checks names, counts and values against the schema.
    pub fn compile(filters: &[Filter], schema: &FilterSchema) -> Result<FilterSet, FilterError> {
        if filters.len() > MAX_FILTERS {
            return Err(FilterError::TooManyFilters(filters.len()));
        }
        let mut out = Vec::with_capacity(filters.len());
        for (i, f) in filters.iter().enumerate() {
            let name = f.name.as_deref().ok_or(FilterError::MissingName(i + 1))?;
            let documented = schema.aliases.iter().find(|(alias, _)| *alias == name).map_or(name, |(_, doc)| *doc);
            let key = if let Some(&known) = schema.names.iter().find(|n| **n == documented) {
                Selector::Field(known)
            } else if schema.tags && name == "tag-key" {
                Selector::AnyTagKey
            } else if schema.tags && name == "tag-value" {
                Selector::AnyTagValue
            } else if let Some(tag) = name.strip_prefix("tag:").filter(|_| schema.tags) {
                Selector::TagValue(tag.to_string())
            } else {
                return Err(FilterError::UnknownName(name.to_string()));
            };
            if f.values.is_empty() {
                return Err(FilterError::NoValues(name.to_string()));
            }
            if f.values.len() > MAX_VALUES_PER_FILTER {
                return Err(FilterError::TooManyValues(name.to_string(), f.values.len()));
            }
            out.push(Compiled { key, patterns: f.values.iter().map(|v| Pattern::new(v)).collect() });
        }
        Ok(FilterSet { filters: out })
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Whether the resource (with its tags) passes every filter.
    pub fn matches<T: TagPair>(&self, resource: &dyn Filterable, tags: &[T]) -> bool {
        self.filters.iter().all(|f| {
            let mut any = |value: &str| f.patterns.iter().any(|p| p.matches(value));
            match &f.key {
                Selector::Field(name) => resource.any_value(name, &mut any),
                Selector::AnyTagKey => tags.iter().any(|t| any(t.key())),
                Selector::AnyTagValue => tags.iter().any(|t| any(t.value())),
                Selector::TagValue(key) => tags.iter().any(|t| t.key() == key && any(t.value())),
            }
        })
    }

    /// Whether a resource without tags passes every filter.
    pub fn matches_untagged(&self, resource: &dyn Filterable) -> bool {
        self.matches::<(&str, &str)>(resource, &[])
    }

    /// Whether any filter looks at tags (`tag:<Key>`, `tag-key`, `tag-value`).
    pub fn uses_tags(&self) -> bool {
        self.filters
            .iter()
            .any(|f| matches!(f.key, Selector::TagValue(_) | Selector::AnyTagKey | Selector::AnyTagValue))
    }

    /// The literal values of filter `name`, when every value of it is literal (no
    /// wildcard): lets callers turn `vpc-id` filters into direct lookups.
    pub fn literal_values(&self, name: &str) -> Option<Vec<&str>> {
        let f = self.filters.iter().find(|f| matches!(f.key, Selector::Field(n) if n == name))?;
        f.patterns.iter().map(|p| p.literal.as_deref()).collect()
    }
}

impl TagPair for (&str, &str) {
    fn key(&self) -> &str {
        self.0
    }
    fn value(&self) -> &str {
        self.1
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Char(char),
    /// `?`
    One,
    /// `*`
    Any,
}

/// One filter value: a literal, or a wildcard pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    toks: Vec<Tok>,
    /// Set when the value has no wildcard: matching is then plain equality.
    literal: Option<String>,
}

impl Pattern {
    pub fn new(value: &str) -> Pattern {
        let mut toks = Vec::with_capacity(value.len());
        let mut chars = value.chars();
        let mut wild = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => toks.push(Tok::Char(chars.next().unwrap_or('\\'))),
                '*' => {
                    wild = true;
                    if toks.last() != Some(&Tok::Any) {
                        toks.push(Tok::Any);
                    }
                }
                '?' => {
                    wild = true;
                    toks.push(Tok::One);
                }
                c => toks.push(Tok::Char(c)),
            }
        }
        let literal = (!wild).then(|| {
            toks.iter()
                .map(|t| match t {
                    Tok::Char(c) => *c,
                    _ => unreachable!(),
                })
                .collect()
        });
        Pattern { toks, literal }
    }

    /// Whole-value match. Linear for literals; for wildcards, the classic greedy
    /// algorithm that backtracks only to the last `*` (O(n·m) worst case, no recursion).
    pub fn matches(&self, s: &str) -> bool {
        if let Some(lit) = &self.literal {
            return lit == s;
        }
        let text: Vec<char> = s.chars().collect();
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.toks.get(p) {
                Some(Tok::Char(c)) if *c == text[t] => {
                    t += 1;
                    p += 1;
                }
                Some(Tok::One) => {
                    t += 1;
                    p += 1;
                }
                Some(Tok::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.toks[p..].iter().all(|t| *t == Tok::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Res {
        id: &'static str,
        cidrs: Vec<&'static str>,
    }

    impl Filterable for Res {
        fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
            match name {
                "id" => m(self.id),
                "cidr" => self.cidrs.iter().any(|c| m(c)),
                _ => false,
            }
        }
    }

    const SCHEMA: FilterSchema = FilterSchema { names: &["id", "cidr"], aliases: &[("cidrBlock", "cidr")], tags: true };

    fn tag<'a>(k: &'a str, v: &'a str) -> (&'a str, &'a str) {
        (k, v)
    }

    #[test]
    fn wildcards_and_escapes() {
        let cases = [
            ("10.*", "10.0.0.0/16", true),
            ("10.*", "110.0.0.0/16", false),
            ("?pc-*", "vpc-123", true),
            ("vpc-12?", "vpc-123", true),
            ("vpc-12?", "vpc-1234", false),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            (r"\*amazon\?\\", r"*amazon?\", true),
            (r"\*amazon\?\\", r"xamazon?\", false),
            ("Prod", "prod", false),
            ("**x", "x", true),
        ];
        for (pattern, value, want) in cases {
            assert_eq!(Pattern::new(pattern).matches(value), want, "{pattern} ~ {value}");
        }
    }

    #[test]
    fn and_across_filters_or_across_values() {
        let r = Res { id: "vpc-1", cidrs: vec!["10.0.0.0/16", "10.1.0.0/16"] };
        let tags = [tag("env", "prod"), tag("team", "net")];
        let set = |fs: &[Filter]| FilterSet::compile(fs, &SCHEMA).unwrap();
        assert!(set(&[Filter::new("cidr", &["10.1.*"])]).matches(&r, &tags));
        assert!(set(&[Filter::new("id", &["vpc-2", "vpc-1"])]).matches(&r, &tags));
        assert!(!set(&[Filter::new("id", &["vpc-1"]), Filter::new("cidr", &["192.*"])]).matches(&r, &tags));
        assert!(set(&[Filter::new("tag:env", &["prod"]), Filter::new("tag-key", &["team"])]).matches(&r, &tags));
        assert!(!set(&[Filter::new("tag:env", &["net"])]).matches(&r, &tags));
        assert!(!set(&[Filter::new("tag:missing", &["*"])]).matches(&r, &tags));
        // tag-value: any tag's value, whatever its key.
        assert!(set(&[Filter::new("tag-value", &["net"])]).matches(&r, &tags));
        assert!(!set(&[Filter::new("tag-value", &["env"])]).matches(&r, &tags));
        // An alias means its documented name.
        assert!(set(&[Filter::new("cidrBlock", &["10.1.*"])]).matches(&r, &tags));
        assert!(!set(&[Filter::new("cidrBlock", &["192.*"])]).matches(&r, &tags));
    }

    #[test]
    fn schema_errors() {
        let err = |fs: &[Filter]| FilterSet::compile(fs, &SCHEMA).unwrap_err();
        assert_eq!(err(&[Filter::new("nope", &["x"])]), FilterError::UnknownName("nope".into()));
        assert_eq!(err(&[Filter::new("id", &[])]), FilterError::NoValues("id".into()));
        assert_eq!(err(&[Filter { name: None, values: vec!["x".into()] }]), FilterError::MissingName(1));
        let many: Vec<Filter> = (0..51).map(|_| Filter::new("id", &["x"])).collect();
        assert_eq!(err(&many), FilterError::TooManyFilters(51));
        let values: Vec<&str> = vec!["x"; 201];
        assert!(matches!(err(&[Filter::new("id", &values)]), FilterError::TooManyValues(_, 201)));
        let untagged = FilterSchema { names: &["id"], aliases: &[], tags: false };
        assert!(FilterSet::compile(&[Filter::new("tag:x", &["y"])], &untagged).is_err());
        assert!(FilterSet::compile(&[Filter::new("tag-value", &["y"])], &untagged).is_err());
        // Only listed aliases: a near miss of a name stays an error.
        assert_eq!(err(&[Filter::new("cidr-block", &["x"])]), FilterError::UnknownName("cidr-block".into()));
    }

    #[test]
    fn literal_values_enable_lookups() {
        let s = FilterSet::compile(&[Filter::new("id", &["vpc-1", "vpc-2"])], &SCHEMA).unwrap();
        assert_eq!(s.literal_values("id"), Some(vec!["vpc-1", "vpc-2"]));
        let s = FilterSet::compile(&[Filter::new("id", &["vpc-*"])], &SCHEMA).unwrap();
        assert_eq!(s.literal_values("id"), None);
    }

    /// Reference semantics: translate the pattern to an anchored regex.
    fn reference(pattern: &str, value: &str) -> bool {
        let mut re = String::from("^");
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => re.push_str(&regex::escape(&chars.next().unwrap_or('\\').to_string())),
                '*' => re.push_str("(?s:.*)"),
                '?' => re.push_str("(?s:.)"),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        regex::Regex::new(&re).unwrap().is_match(value)
    }

    proptest! {
        #[test]
        fn pattern_matches_like_the_regex_reference(
            pattern in "[ab*?\\\\é]{0,8}",
            value in "[abé*?\\\\]{0,10}",
        ) {
            prop_assert_eq!(Pattern::new(&pattern).matches(&value), reference(&pattern, &value));
        }

        #[test]
        fn set_semantics_are_and_of_ors(
            filters in proptest::collection::vec(("(id|cidr)", proptest::collection::vec("[v1*]{1,3}", 1..4)), 0..4),
            id in "[v1]{1,3}",
        ) {
            let r = Res { id: Box::leak(id.into_boxed_str()), cidrs: vec!["v1", "1v"] };
            let fs: Vec<Filter> = filters.iter().map(|(n, vs)| Filter { name: Some(n.clone()), values: vs.clone() }).collect();
            let got = FilterSet::compile(&fs, &SCHEMA).unwrap().matches_untagged(&r);
            let want = fs.iter().all(|f| {
                let vals: Vec<&str> = if f.name.as_deref() == Some("id") { vec![r.id] } else { r.cidrs.clone() };
                f.values.iter().any(|p| vals.iter().any(|v| reference(p, v)))
            });
            prop_assert_eq!(got, want);
        }
    }
}
