//! EC2 tags.
//!
//! Rules (EC2 User Guide, "Tag restrictions"): a key is 1–128 characters, a value 0–256;
//! keys are case-sensitive; the `aws:` prefix is reserved; a resource has at most 50
//! tags. `CreateTags` overwrites the value of an existing key. A tag sent without a
//! value gets the empty string.
//!
//! `DeleteTags`: with no tags given, every tag of the resources goes; a tag given with a
//! value is deleted only when the value matches (an empty value matches only an empty
//! value); a tag given without a value is deleted whatever its value.

use serde::{Deserialize, Serialize};

use crate::filter::{FilterSchema, Filterable, TagPair};

pub const MAX_TAGS_PER_RESOURCE: usize = 50;
pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl TagPair for Tag {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> &str {
        &self.value
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("Tag key must be specified")]
    MissingKey,
    #[error("Tag key exceeds the maximum length of {MAX_KEY_CHARS} characters: {0}")]
    KeyTooLong(String),
    #[error("Tag value exceeds the maximum length of {MAX_VALUE_CHARS} characters for key {0}")]
    ValueTooLong(String),
    #[error("Tag keys starting with 'aws:' are reserved for internal use: {0}")]
    ReservedKey(String),
    #[error("Duplicate tag key '{0}' specified")]
    DuplicateKey(String),
    #[error("The maximum number of tags ({MAX_TAGS_PER_RESOURCE}) for resource {resource} has been reached")]
    TooMany { resource: String },
}

/// Validates tags to set (CreateTags, TagSpecifications): keys present, lengths,
/// reserved prefix, no key twice.
pub fn validate_new_tags(tags: &[(Option<String>, Option<String>)]) -> Result<Vec<Tag>, TagError> {
    let mut out: Vec<Tag> = Vec::with_capacity(tags.len());
    for (key, value) in tags {
        let key = key.as_deref().ok_or(TagError::MissingKey)?;
        check_key(key)?;
        let value = value.clone().unwrap_or_default();
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(TagError::ValueTooLong(key.to_string()));
        }
        if out.iter().any(|t| t.key == key) {
            return Err(TagError::DuplicateKey(key.to_string()));
        }
        out.push(Tag { key: key.to_string(), value });
    }
    Ok(out)
}

fn check_key(key: &str) -> Result<(), TagError> {
    if key.is_empty() {
        return Err(TagError::MissingKey);
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(TagError::KeyTooLong(key.to_string()));
    }
    if key.len() >= 4 && key[..4].eq_ignore_ascii_case("aws:") {
        return Err(TagError::ReservedKey(key.to_string()));
    }
    Ok(())
}

/// Which tags `DeleteTags` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteSelector {
    /// No `Tag.N` given: all of them.
    All,
    /// Keys, each with the value it must have (`None`: any value).
    Keys(Vec<(String, Option<String>)>),
}

impl DeleteSelector {
    pub fn from_request(tags: Option<&[(Option<String>, Option<String>)]>) -> Result<DeleteSelector, TagError> {
        match tags {
            None => Ok(DeleteSelector::All),
            Some(tags) => {
                let mut keys = Vec::with_capacity(tags.len());
                for (k, v) in tags {
                    let k = k.as_deref().ok_or(TagError::MissingKey)?;
                    if k.len() >= 4 && k[..4].eq_ignore_ascii_case("aws:") {
                        return Err(TagError::ReservedKey(k.to_string()));
                    }
                    keys.push((k.to_string(), v.clone()));
                }
                Ok(DeleteSelector::Keys(keys))
            }
        }
    }

    /// Whether the existing tag goes.
    pub fn selects(&self, tag: &Tag) -> bool {
        match self {
            DeleteSelector::All => true,
            DeleteSelector::Keys(keys) => {
                keys.iter().any(|(k, v)| *k == tag.key && v.as_ref().is_none_or(|v| *v == tag.value))
            }
        }
    }
}

/// How many tags a resource would have after setting `new` on top of `existing`.
pub fn count_after_set(existing: &[Tag], new: &[Tag]) -> usize {
    existing.len() + new.iter().filter(|n| !existing.iter().any(|e| e.key == n.key)).count()
}

/// One row of `DescribeTags`: a tag and the resource it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagDescription {
    pub resource_id: String,
    pub resource_type: String,
    pub key: String,
    pub value: String,
}

/// `DescribeTags` filters (EC2 API reference).
pub const DESCRIBE_TAGS_FILTERS: FilterSchema =
    FilterSchema { names: &["key", "resource-id", "resource-type", "value"], aliases: &[], tags: true };

impl Filterable for TagDescription {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "key" => m(&self.key),
            "resource-id" => m(&self.resource_id),
            "resource-type" => m(&self.resource_type),
            "value" => m(&self.value),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(k: &str, v: Option<&str>) -> (Option<String>, Option<String>) {
        (Some(k.to_string()), v.map(String::from))
    }

    #[test]
    fn validation() {
        assert_eq!(validate_new_tags(&[kv("Name", None)]).unwrap()[0].value, "");
        assert_eq!(validate_new_tags(&[kv("aws:x", Some("1"))]), Err(TagError::ReservedKey("aws:x".into())));
        assert_eq!(validate_new_tags(&[kv("AWS:x", Some("1"))]), Err(TagError::ReservedKey("AWS:x".into())));
        assert_eq!(validate_new_tags(&[kv("", Some("1"))]), Err(TagError::MissingKey));
        assert_eq!(validate_new_tags(&[(None, Some("1".into()))]), Err(TagError::MissingKey));
        assert!(validate_new_tags(&[kv(&"k".repeat(128), Some(&"v".repeat(256)))]).is_ok());
        assert!(matches!(validate_new_tags(&[kv(&"k".repeat(129), None)]), Err(TagError::KeyTooLong(_))));
        assert!(matches!(validate_new_tags(&[kv("k", Some(&"v".repeat(257)))]), Err(TagError::ValueTooLong(_))));
        assert_eq!(validate_new_tags(&[kv("a", None), kv("a", Some("2"))]), Err(TagError::DuplicateKey("a".into())));
    }

    #[test]
    fn delete_selection() {
        let t = Tag { key: "env".into(), value: "prod".into() };
        let empty = Tag { key: "env".into(), value: "".into() };
        assert!(DeleteSelector::All.selects(&t));
        let by_key = DeleteSelector::from_request(Some(&[kv("env", None)])).unwrap();
        assert!(by_key.selects(&t));
        let by_value = DeleteSelector::from_request(Some(&[kv("env", Some("dev"))])).unwrap();
        assert!(!by_value.selects(&t));
        let by_empty = DeleteSelector::from_request(Some(&[kv("env", Some(""))])).unwrap();
        assert!(!by_empty.selects(&t));
        assert!(by_empty.selects(&empty));
    }

    #[test]
    fn counting_overwrites_once() {
        let existing = vec![Tag { key: "a".into(), value: "1".into() }];
        let new = vec![Tag { key: "a".into(), value: "2".into() }, Tag { key: "b".into(), value: "".into() }];
        assert_eq!(count_after_set(&existing, &new), 2);
    }
}
