//! Model constraints (`required`, `min`, `max`, `pattern`, `enum`) checked on decoded input.
//!
//! Clients check little: botocore checks `required` and `min` only, aws-sdk-rust checks
//! nothing. So every generated input shape implements [`Validate`], and the protocol
//! layer turns the [`Violation`]s into the error its service gives: EC2 answers
//! `MissingParameter` / `InvalidParameterValue` for the first violation, the JSON
//! services answer `ValidationException` listing them all ("2 validation errors
//! detected: Value 'x' at 'identityPoolName' failed to satisfy constraint: …").

use std::fmt;
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::enums::WireEnum;

/// Implemented by every generated input structure.
pub trait Validate {
    fn validate(&self, v: &mut Validator);

    /// All violations, in member order.
    fn violations(&self) -> Vec<Violation> {
        let mut v = Validator::default();
        self.validate(&mut v);
        v.violations
    }
}

/// One step of the path to an offending value.
#[derive(Debug, Clone, PartialEq)]
pub enum PathSeg {
    /// A structure member: its model name and its name on the wire (the EC2 form key
    /// or the JSON key).
    Member { name: &'static str, wire: &'static str },
    /// A list entry, 1-based as both protocols count.
    Index(usize),
    /// A map entry.
    Key(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    Required,
    MinLength(i64),
    MaxLength(i64),
    Min(i64),
    Max(i64),
    Pattern(&'static str),
    Enum(&'static [&'static str]),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: Vec<PathSeg>,
    pub constraint: Constraint,
    /// The offending value as text (`None` for a missing member).
    pub value: Option<String>,
}

impl Violation {
    /// The member path in the style of AWS's JSON services: member names with the
    /// first letter lower-cased, list entries as `.N.member`, map entries as `.key`
    /// (`cognitoIdentityProviders.1.member.clientId`).
    pub fn coral_path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                PathSeg::Member { name, .. } => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    let mut chars = name.chars();
                    if let Some(first) = chars.next() {
                        out.extend(first.to_lowercase());
                        out.push_str(chars.as_str());
                    }
                }
                PathSeg::Index(i) => {
                    out.push_str(&format!(".{i}.member"));
                }
                PathSeg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
            }
        }
        out
    }

    /// The path as an EC2 form key (`Filter.2.Value.1`, `MaxResults`).
    pub fn query_key(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if !out.is_empty() {
                out.push('.');
            }
            match seg {
                PathSeg::Member { wire, .. } => out.push_str(wire),
                PathSeg::Index(i) => out.push_str(&i.to_string()),
                PathSeg::Key(k) => out.push_str(k),
            }
        }
        out
    }

    /// The constraint in AWS's JSON-service wording ("Member must have length less than
    /// or equal to 128").
    pub fn coral_constraint(&self) -> String {
        match &self.constraint {
            Constraint::Required => "Member must not be null".into(),
            Constraint::MinLength(n) => {
                format!("Member must have length greater than or equal to {n}")
            }
            Constraint::MaxLength(n) => {
                format!("Member must have length less than or equal to {n}")
            }
            Constraint::Min(n) => format!("Member must have value greater than or equal to {n}"),
            Constraint::Max(n) => format!("Member must have value less than or equal to {n}"),
            Constraint::Pattern(p) => {
                format!("Member must satisfy regular expression pattern: {p}")
            }
            Constraint::Enum(values) => format!("Member must satisfy enum value set: [{}]", values.join(", ")),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "Value '{}' at '{}' failed to satisfy constraint: {}",
                v,
                self.coral_path(),
                self.coral_constraint()
            ),
            None => write!(
                f,
                "Value null at '{}' failed to satisfy constraint: {}",
                self.coral_path(),
                self.coral_constraint()
            ),
        }
    }
}

/// Walks a value, collecting violations. Generated `Validate` impls drive it.
#[derive(Debug, Default)]
pub struct Validator {
    path: Vec<PathSeg>,
    pub violations: Vec<Violation>,
}

impl Validator {
    pub fn member(&mut self, name: &'static str, wire: &'static str, f: impl FnOnce(&mut Self)) {
        self.path.push(PathSeg::Member { name, wire });
        f(self);
        self.path.pop();
    }

    pub fn index(&mut self, i: usize, f: impl FnOnce(&mut Self)) {
        self.path.push(PathSeg::Index(i + 1));
        f(self);
        self.path.pop();
    }

    pub fn key(&mut self, key: &str, f: impl FnOnce(&mut Self)) {
        self.path.push(PathSeg::Key(key.to_string()));
        f(self);
        self.path.pop();
    }

    fn push(&mut self, constraint: Constraint, value: Option<String>) {
        self.violations.push(Violation { path: self.path.clone(), constraint, value });
    }

    pub fn missing(&mut self) {
        self.push(Constraint::Required, None);
    }

    /// Length of a string in characters, of a list or map in entries.
    pub fn length(&mut self, len: usize, min: Option<i64>, max: Option<i64>, shown: impl Fn() -> String) {
        let len = len as i64;
        if let Some(min) = min.filter(|&m| len < m) {
            self.push(Constraint::MinLength(min), Some(shown()));
        } else if let Some(max) = max.filter(|&m| len > m) {
            self.push(Constraint::MaxLength(max), Some(shown()));
        }
    }

    pub fn string_length(&mut self, s: &str, min: Option<i64>, max: Option<i64>) {
        self.length(s.chars().count(), min, max, || s.to_string());
    }

    pub fn range(&mut self, value: i64, min: Option<i64>, max: Option<i64>) {
        if let Some(min) = min.filter(|&m| value < m) {
            self.push(Constraint::Min(min), Some(value.to_string()));
        } else if let Some(max) = max.filter(|&m| value > m) {
            self.push(Constraint::Max(max), Some(value.to_string()));
        }
    }

    pub fn pattern(&mut self, s: &str, pattern: &'static Pattern) {
        if !pattern.regex.is_match(s.as_bytes()) {
            self.push(Constraint::Pattern(pattern.source), Some(s.to_string()));
        }
    }

    pub fn enumeration<E: WireEnum>(&mut self, e: &E) {
        if !e.is_known() {
            self.push(Constraint::Enum(E::VALUES), Some(e.as_str().to_string()));
        }
    }
}

/// A model `pattern`, compiled on first use.
///
/// AWS services match the whole value (Java's `String.matches`), with Java's ASCII-only
/// character classes, so the pattern is anchored and compiled as a byte regex without
/// Unicode classes: `\w` is `[A-Za-z0-9_]` and `\S` still matches any non-ASCII character.
pub struct Pattern {
    pub source: &'static str,
    regex: LazyLock<Regex>,
}

impl Pattern {
    pub const fn new(source: &'static str, init: fn() -> Regex) -> Self {
        Self { source, regex: LazyLock::new(init) }
    }

    /// Compiles `source` the way [`Pattern`] documents; generated code calls this.
    pub fn compile(source: &str) -> Regex {
        regex::bytes::RegexBuilder::new(&format!("^(?:{source})$"))
            .unicode(false)
            .build()
            .expect("model patterns are checked to compile at codegen time")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NAME: Pattern = Pattern::new(r"[\w\s+=,.@-]+", || Pattern::compile(r"[\w\s+=,.@-]+"));
    static TOKEN: Pattern = Pattern::new(r"[\S]+", || Pattern::compile(r"[\S]+"));

    #[test]
    fn patterns_match_whole_values_with_ascii_classes() {
        let mut v = Validator::default();
        v.pattern("my pool", &NAME);
        v.pattern("tëst", &NAME); // \w is ASCII-only, as in Java
        v.pattern("pool!", &NAME); // whole-value match: the prefix "pool" is not enough
        assert_eq!(v.violations.len(), 2);
        let mut v = Validator::default();
        v.pattern("ünïcode-token", &TOKEN);
        assert!(v.violations.is_empty());
    }

    #[test]
    fn coral_messages() {
        let mut v = Validator::default();
        v.member("IdentityPoolName", "IdentityPoolName", |v| v.string_length(&"x".repeat(129), Some(1), Some(128)));
        v.member("CognitoIdentityProviders", "CognitoIdentityProviders", |v| {
            v.index(0, |v| v.member("ClientId", "ClientId", |v| v.missing()))
        });
        let msgs: Vec<String> = v.violations.iter().map(|v| v.to_string()).collect();
        assert!(msgs[0].starts_with("Value 'xxx"));
        assert!(msgs[0].ends_with(
            "at 'identityPoolName' failed to satisfy constraint: Member must have length less than or equal to 128"
        ));
        assert_eq!(
            msgs[1],
            "Value null at 'cognitoIdentityProviders.1.member.clientId' failed to satisfy constraint: Member must not be null"
        );
        assert_eq!(v.violations[1].query_key(), "CognitoIdentityProviders.1.ClientId");
    }
}
