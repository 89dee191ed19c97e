//! `CreateTags`, `DeleteTags`, `DescribeTags`, over every taggable resource.

use std::collections::HashMap;

use reservoir_domain::account::Scope;
use reservoir_domain::ids::ResourceKind;
use reservoir_domain::tags::{self, DESCRIBE_TAGS_FILTERS, DeleteSelector, Tag, TagDescription, TagError};
use reservoir_store::{ReadTx, TagRow};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2::codes;
use reservoir_wire::ec2_api as api;

use super::shared::{Call, filter_set, page_size};
use crate::error::{ApiError, ApiResult, ec2_not_found, ec2_token_error};

/// At most this many resources per CreateTags/DeleteTags call (AWS documents 1000).
const MAX_RESOURCES: usize = 1000;

/// The kind of a taggable resource that exists in the scope: `InvalidID` for an id that
/// is not an EC2 resource id, the kind's `…NotFound` for one that does not exist.
/// Local gateways are not stored: they exist when the Outposts catalogue lists them
/// (`catalogued`, the caller's local gateway ids).
fn taggable(tx: &mut dyn ReadTx, scope: &Scope, id: &str, catalogued: &[String]) -> ApiResult<ResourceKind> {
    let kind = ResourceKind::of_ec2_id(id)
        .filter(|k| k.tag_resource_type().is_some() && k.is_well_formed(id))
        .ok_or_else(|| ApiError::new(codes::INVALID_ID, format!("The ID '{id}' is not valid")))?;
    if kind == ResourceKind::LocalGateway {
        if !catalogued.iter().any(|g| g == id) {
            return Err(ec2_not_found(kind, id));
        }
    } else if tx.get(scope, kind.storage_name(), id)?.is_none() {
        return Err(ec2_not_found(kind, id));
    }
    Ok(kind)
}

/// The caller's local gateways (the Outposts catalogue).
fn local_gateway_ids(call: &Call) -> Vec<String> {
    let scope = &call.cx.scope;
    call.cx.state.outposts.local_gateways(scope.account.as_str(), &scope.region).into_iter().map(|g| g.id).collect()
}

fn resources(list: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_RESOURCES {
        return Err(ApiError::invalid_parameter_value(format!(
            "The request names {} resources; the limit is {MAX_RESOURCES}.",
            list.len()
        )));
    }
    Ok(list)
}

fn pairs(tags: Option<Vec<api::Tag>>) -> Vec<(Option<String>, Option<String>)> {
    tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect()
}

/// EC2 `CreateTags`: sets tags on resources, all or none. Errors: `InvalidID`,
/// `Invalid…ID.NotFound`, `InvalidParameterValue` (bad or reserved keys),
/// `TagLimitExceeded` (over 50 per resource), `DryRunOperation`.
pub async fn create_tags(call: &Call, input: api::CreateTagsRequest) -> ApiResult<()> {
    use api::CreateTagsRequestMember as M;
    call.supported(&input, &[M::DryRun, M::Resources, M::Tags])?;
    let ids = resources(input.resources)?;
    let new = tags::validate_new_tags(&pairs(input.tags))?;
    let scope = call.cx.scope.clone();
    let lgws = local_gateway_ids(call);
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        for id in &ids {
            let kind = taggable(tx, &scope, id, &lgws)?;
            let existing: Vec<Tag> =
                tx.tags_of(&scope, &[id])?.into_iter().map(|r| Tag { key: r.key, value: r.value }).collect();
            if tags::count_after_set(&existing, &new) > tags::MAX_TAGS_PER_RESOURCE {
                return Err(TagError::TooMany { resource: id.clone() }.into());
            }
            let resource_type = kind.tag_resource_type().expect("taggable");
            for t in &new {
                tx.put_tag(
                    &scope,
                    &TagRow {
                        resource_id: id.clone(),
                        resource_type: resource_type.to_string(),
                        key: t.key.clone(),
                        value: t.value.clone(),
                    },
                )?;
            }
        }
        Ok(())
    })
    .await
}

/// EC2 `DeleteTags`: without `Tag.N`, all of the resources' tags; a tag with a value
/// only when the value matches. Errors as `CreateTags`.
pub async fn delete_tags(call: &Call, input: api::DeleteTagsRequest) -> ApiResult<()> {
    use api::DeleteTagsRequestMember as M;
    call.supported(&input, &[M::DryRun, M::Resources, M::Tags])?;
    let ids = resources(input.resources)?;
    let selector = match input.tags {
        None => DeleteSelector::All,
        Some(t) => DeleteSelector::from_request(Some(&pairs(Some(t))))?,
    };
    let scope = call.cx.scope.clone();
    let lgws = local_gateway_ids(call);
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        for id in &ids {
            taggable(tx, &scope, id, &lgws)?;
            for row in tx.tags_of(&scope, &[id])? {
                if selector.selects(&Tag { key: row.key.clone(), value: row.value.clone() }) {
                    tx.delete_tag(&scope, id, &row.key)?;
                }
            }
        }
        Ok(())
    })
    .await
}

/// A `DescribeTags` cursor: the last (resource id, key) returned.
fn encode_cursor(resource_id: &str, key: &str) -> String {
    serde_json::to_string(&(resource_id, key)).expect("json")
}

fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    serde_json::from_str(cursor).ok()
}

/// EC2 `DescribeTags`: tags of the account in the region, ordered by resource and key,
/// with filters `key`, `resource-id`, `resource-type`, `value`, `tag:<key>`, `tag-key`
/// and pagination (`MaxResults` 5–1000). Errors: `InvalidParameterValue`,
/// `FilterLimitExceeded`, `InvalidNextToken`, `DryRunOperation`.
pub async fn describe_tags(call: &Call, input: api::DescribeTagsRequest) -> ApiResult<api::DescribeTagsResult> {
    use api::DescribeTagsRequestMember as M;
    call.supported(&input, &[M::DryRun, M::Filters, M::MaxResults, M::NextToken])?;
    let filters = filter_set(input.filters, &DESCRIBE_TAGS_FILTERS)?;
    let limit = page_size(input.max_results);
    let after = match call.cursor(input.next_token.as_deref())? {
        Some(c) => {
            Some(decode_cursor(&c).ok_or_else(|| ec2_token_error(reservoir_domain::pagination::TokenError::Invalid))?)
        }
        None => None,
    };
    let scope = call.cx.scope.clone();
    let needs_resource_tags = filters.uses_tags();
    let (rows, more) = call
        .read(move |tx| {
            let after_ref = after.as_ref().map(|(r, k)| (r.as_str(), k.as_str()));
            // Every tag of a resource, for `tag:`/`tag-key` filters (which look at the
            // resource, not the row), fetched once per resource.
            let mut resource_tags: HashMap<String, Vec<Tag>> = HashMap::new();
            let mut out: Vec<TagRow> = Vec::new();
            let mut keep = |tx: &mut dyn ReadTx, row: TagRow, out: &mut Vec<TagRow>| -> ApiResult<bool> {
                let desc = TagDescription {
                    resource_id: row.resource_id.clone(),
                    resource_type: row.resource_type.clone(),
                    key: row.key.clone(),
                    value: row.value.clone(),
                };
                let all: &[Tag] = if needs_resource_tags {
                    if !resource_tags.contains_key(&row.resource_id) {
                        let t = tx
                            .tags_of(&scope, &[&row.resource_id])?
                            .into_iter()
                            .map(|r| Tag { key: r.key, value: r.value })
                            .collect();
                        resource_tags.insert(row.resource_id.clone(), t);
                    }
                    &resource_tags[&row.resource_id]
                } else {
                    &[]
                };
                if filters.matches(&desc, all) {
                    out.push(row);
                }
                Ok(out.len() > limit)
            };
            if let Some(ids) = filters.literal_values("resource-id") {
                // A lookup, not a scan, when the resources are named exactly.
                let ids: Vec<String> = ids.into_iter().map(String::from).collect();
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                let mut rows = tx.tags_of(&scope, &refs)?;
                rows.sort_by(|a, b| (&a.resource_id, &a.key).cmp(&(&b.resource_id, &b.key)));
                for row in rows {
                    if after_ref.is_some_and(|(r, k)| (row.resource_id.as_str(), row.key.as_str()) <= (r, k)) {
                        continue;
                    }
                    if keep(tx, row, &mut out)? {
                        break;
                    }
                }
            } else {
                let chunk = (limit + 1).clamp(64, 1000);
                let mut cursor: Option<(String, String)> = after.clone();
                'scan: loop {
                    let rows = tx.list_tags(&scope, cursor.as_ref().map(|(r, k)| (r.as_str(), k.as_str())), chunk)?;
                    let exhausted = rows.len() < chunk;
                    for row in rows {
                        cursor = Some((row.resource_id.clone(), row.key.clone()));
                        if keep(tx, row, &mut out)? {
                            break 'scan;
                        }
                    }
                    if exhausted {
                        break;
                    }
                }
            }
            let more = out.len() > limit;
            out.truncate(limit);
            Ok((out, more))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let next_token =
        if more { rows.last().map(|r| call.next_token(&encode_cursor(&r.resource_id, &r.key))) } else { None };
    Ok(api::DescribeTagsResult {
        next_token,
        tags: Some(
            rows.into_iter()
                .map(|r| api::TagDescription {
                    key: Some(r.key),
                    resource_id: Some(r.resource_id),
                    resource_type: Some(api::ResourceType::from_wire(&r.resource_type)),
                    value: Some(r.value),
                })
                .collect(),
        ),
    })
}
