//! AWS RAM (restJson1): resource shares, their principals and resources, invitations,
//! and the `shared_resources` rows other families read to let a principal use what is
//! shared with it.
//!
//! Routing is by method and path (every RAM operation is recognised; those Reservoir does
//! not serve answer 501 `NotImplemented`, paths RAM does not have 404). The rules —
//! statuses, invitations, who has access — are `domain::ram`'s. Where state lives:
//! * a share, with its associations, in its owner's (account, region);
//! * an invitation in the receiver's (account, share region), so the receiver lists its
//!   own; a membership there too while the receiver has access, so
//!   `resourceOwner=OTHER-ACCOUNTS` lists scan the caller's own scope;
//! * one `shared_resources` row per (principal, resource, share) while the principal has
//!   access, written in the transaction that changes the access ([`sync_access`]).
//!
//! Decisions (docs/DECISIONS.md): responses of `AssociateResourceShare` and
//! `DisassociateResourceShare` show the associations they touched as `ASSOCIATING` /
//! `DISASSOCIATING`, as AWS's do; later reads show the settled state at once
//! (`ASSOCIATED`, or `ASSOCIATING` for an account until it accepts its invitation;
//! `DISASSOCIATED`). `GetResourceShareInvitations` lists the invitations the caller
//! received (the API reference: "invitations that you have received").

use std::sync::LazyLock;

use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::idempotency::{self, Decision, IdempotencyRecord};
use reservoir_domain::ids::{OsRandom, new_uuid};
use reservoir_domain::pagination::{Binding, fingerprint};
use reservoir_domain::ram::{
    self as domain, Association, AssociationKind, AssociationStatus, Invitation, Joined, Membership, RamError,
    ResourceShare, ShareStatus, ShownStatus,
};
use reservoir_domain::time::Timestamp;
use reservoir_store::{IdempotencyRow, ReadTx, ReadTxExt, SharedRow, Tx, TxExt};
use reservoir_wire::DateTime;
use reservoir_wire::json::{RestRequest, RouteMatch, Segment, codes, match_route, parse_query, to_body};
use reservoir_wire::members::Members;
use reservoir_wire::ram::{self as api, Request};
use reservoir_wire::route::Service;
use reservoir_wire::validate::{Constraint, Violation};

use crate::cognito::{missing_authentication, serialization_error, validation_message};
use crate::context::{Cx, Trace};
use crate::error::{ApiError, ApiResult, ram_idempotency_error, ram_token_error};
use crate::respond::{Flavor, error_response, json_response};

/// Page size when `maxResults` is absent (the model's maximum).
const MAX_PAGE: usize = 500;
/// Shares read per store query while scanning for a page.
const SCAN_BATCH: usize = 100;

/// RAM's operation paths (`/createresourceshare`, …), for routing unsigned requests.
pub static PATHS: LazyLock<Vec<String>> = LazyLock::new(|| {
    api::ROUTES
        .iter()
        .map(|r| {
            r.segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => format!("/{l}"),
                    Segment::Label(l) => format!("/{{{l}}}"),
                })
                .collect::<String>()
        })
        .collect()
});

pub async fn handle(cx: Cx, parts: &Parts, body: Bytes, trace: &mut Trace) -> Response {
    let request_id = cx.request_id.clone();
    match run(cx, parts, &body, trace).await {
        Ok(out) => json_response(api::CONTENT_TYPE, &request_id, out),
        Err(e) => error_response(Flavor::of(&Service::Ram), &request_id, &e, trace),
    }
}

async fn run(cx: Cx, parts: &Parts, body: &[u8], trace: &mut Trace) -> ApiResult<Vec<u8>> {
    let (route, labels) = match match_route(api::ROUTES, parts.method.as_str(), parts.uri.path()) {
        RouteMatch::Found { route, labels } => (route, labels),
        RouteMatch::MethodNotAllowed => {
            return Err(ApiError::new(
                codes::UNKNOWN_OPERATION_METHOD,
                format!("RAM has no operation for {} {}.", parts.method, parts.uri.path()),
            ));
        }
        RouteMatch::NotFound => {
            return Err(ApiError::new(
                codes::UNKNOWN_OPERATION_PATH,
                format!("RAM has no operation at {}.", parts.uri.path()),
            ));
        }
    };
    trace.operation = Some(route.operation.to_string());
    let rest = RestRequest { labels, query: parse_query(parts.uri.query()), headers: &parts.headers, body };
    let Some(decoded) = api::decode(route.operation, &rest) else {
        return Err(ApiError::new(
            codes::NOT_IMPLEMENTED,
            format!("Reservoir does not implement ram:{} yet.", route.operation),
        ));
    };
    if !cx.signed {
        return Err(missing_authentication());
    }
    let request = decoded.map_err(serialization_error)?;
    let violations = request.violations();
    if !violations.is_empty() {
        return Err(violation_error(&violations));
    }
    Ok(match request {
        Request::CreateResourceShare(input) => create_resource_share(&cx, input).await?,
        Request::AssociateResourceShare(input) => associate_resource_share(&cx, input).await?,
        Request::DisassociateResourceShare(input) => disassociate_resource_share(&cx, input).await?,
        Request::DeleteResourceShare(input) => delete_resource_share(&cx, input).await?,
        Request::GetResourceShares(input) => to_body(&get_resource_shares(&cx, input).await?),
        Request::GetResourceShareAssociations(input) => to_body(&get_resource_share_associations(&cx, input).await?),
        Request::GetResourceShareInvitations(input) => to_body(&get_resource_share_invitations(&cx, input).await?),
        Request::AcceptResourceShareInvitation(input) => {
            let arn = input.resource_share_invitation_arn.clone().unwrap_or_default();
            answer_invitation(&cx, "AcceptResourceShareInvitation", arn, input.client_token, true).await?
        }
        Request::RejectResourceShareInvitation(input) => {
            let arn = input.resource_share_invitation_arn.clone().unwrap_or_default();
            answer_invitation(&cx, "RejectResourceShareInvitation", arn, input.client_token, false).await?
        }
        Request::ListResources(input) => to_body(&list_resources(&cx, input).await?),
        Request::ListPrincipals(input) => to_body(&list_principals(&cx, input).await?),
    })
}

/// Model constraints, at RAM's codes: a missing member is
/// `MissingRequiredParameterException`, a `maxResults` out of range
/// `InvalidMaxResultsException`, anything else `InvalidParameterException`.
fn violation_error(violations: &[Violation]) -> ApiError {
    let code = match violations[0].constraint {
        Constraint::Required => api::codes::MISSING_REQUIRED_PARAMETER_EXCEPTION,
        Constraint::Min(_) | Constraint::Max(_) if violations[0].coral_path() == "maxResults" => {
            api::codes::INVALID_MAX_RESULTS_EXCEPTION
        }
        _ => api::codes::INVALID_PARAMETER_EXCEPTION,
    };
    ApiError::new(code, validation_message(violations))
}

/// Members of the input the handler does not implement are refused with 501.
fn supported<I: Members>(operation: &str, input: &I, implemented: &[I::Member]) -> ApiResult<()> {
    match input.first_unimplemented(implemented) {
        Some(member) => Err(ApiError::new(
            codes::NOT_IMPLEMENTED,
            format!("Reservoir does not implement the parameter {member} of {operation} yet."),
        )),
        None => Ok(()),
    }
}

// ----- wire shapes ---------------------------------------------------------------------

fn date(t: Timestamp) -> DateTime {
    DateTime::from_unix_millis(t.millis())
}

fn share_to_wire(s: &ResourceShare) -> api::ResourceShare {
    api::ResourceShare {
        resource_share_arn: Some(s.arn.clone()),
        name: Some(s.name.clone()),
        owning_account_id: Some(s.owner.to_string()),
        allow_external_principals: Some(s.allow_external),
        status: Some(match s.status {
            ShareStatus::Active => api::ResourceShareStatus::Active,
            ShareStatus::Deleted => api::ResourceShareStatus::Deleted,
        }),
        status_message: None,
        tags: (!s.tags.is_empty())
            .then(|| s.tags.iter().map(|(k, v)| api::Tag { key: Some(k.clone()), value: Some(v.clone()) }).collect()),
        creation_time: Some(date(s.created)),
        last_updated_time: Some(date(s.updated)),
        feature_set: Some(api::ResourceShareFeatureSet::Standard),
        resource_share_configuration: None,
    }
}

fn status_to_wire(s: AssociationStatus) -> api::ResourceShareAssociationStatus {
    match s {
        AssociationStatus::Associating => api::ResourceShareAssociationStatus::Associating,
        AssociationStatus::Associated => api::ResourceShareAssociationStatus::Associated,
        AssociationStatus::Disassociated => api::ResourceShareAssociationStatus::Disassociated,
    }
}

fn association_to_wire(
    s: &ResourceShare,
    a: &Association,
    shown: api::ResourceShareAssociationStatus,
) -> api::ResourceShareAssociation {
    api::ResourceShareAssociation {
        resource_share_arn: Some(s.arn.clone()),
        resource_share_name: Some(s.name.clone()),
        associated_entity: Some(a.entity.clone()),
        association_type: Some(match a.kind {
            AssociationKind::Principal => api::ResourceShareAssociationType::Principal,
            AssociationKind::Resource => api::ResourceShareAssociationType::Resource,
        }),
        status: Some(shown),
        status_message: None,
        creation_time: Some(date(a.created)),
        last_updated_time: Some(date(a.updated)),
        external: Some(a.external),
    }
}

fn invitation_to_wire(i: &Invitation, now: Timestamp) -> api::ResourceShareInvitation {
    api::ResourceShareInvitation {
        resource_share_invitation_arn: Some(i.arn.clone()),
        resource_share_name: Some(i.share_name.clone()),
        resource_share_arn: Some(i.share_arn.clone()),
        sender_account_id: Some(i.sender.to_string()),
        receiver_account_id: Some(i.receiver.to_string()),
        invitation_timestamp: Some(date(i.created)),
        status: Some(match i.shown(now) {
            ShownStatus::Pending => api::ResourceShareInvitationStatus::Pending,
            ShownStatus::Accepted => api::ResourceShareInvitationStatus::Accepted,
            ShownStatus::Rejected => api::ResourceShareInvitationStatus::Rejected,
            ShownStatus::Expired => api::ResourceShareInvitationStatus::Expired,
        }),
        resource_share_associations: None,
        receiver_arn: None,
    }
}

// ----- lookups and access ----------------------------------------------------------------

/// A share of the caller's (account, region); `UnknownResourceException` otherwise.
fn own_share(tx: &mut dyn ReadTx, scope: &Scope, arn: &str) -> ApiResult<ResourceShare> {
    let r = domain::share_ref(arn)?;
    if r.account != scope.account || r.region != scope.region {
        return Err(RamError::ShareNotFound(arn.to_string()).into());
    }
    tx.load::<ResourceShare>(scope, &domain::share_id(&r.id))?
        .ok_or_else(|| RamError::ShareNotFound(arn.to_string()).into())
}

/// Who has access through a share, before a change.
struct Access {
    grants: Vec<domain::Grant>,
    members: Vec<AccountId>,
}

fn access(s: &ResourceShare) -> Access {
    let members = if s.status == ShareStatus::Active {
        s.principals()
            .filter(|a| a.status == AssociationStatus::Associated)
            .filter_map(|a| AccountId::parse(&a.entity))
            .collect()
    } else {
        Vec::new()
    };
    Access { grants: s.grants(), members }
}

/// Writes what changed in who has access: `shared_resources` rows (one per principal,
/// resource and share) and the principals' memberships.
fn sync_access(tx: &mut dyn Tx, before: &Access, share: &ResourceShare) -> ApiResult<()> {
    let after = access(share);
    let (granted, revoked) = domain::grant_changes(&before.grants, &after.grants);
    for g in granted {
        let Some(account) = AccountId::parse(&g.principal) else { continue };
        let row = SharedRow {
            resource: g.resource_id.clone(),
            kind: g.kind.to_string(),
            owner: share.owner.to_string(),
            share: share.arn.clone(),
        };
        tx.put_shared(&Scope::new(account, share.region.clone()), &row)?;
    }
    for g in revoked {
        let Some(account) = AccountId::parse(&g.principal) else { continue };
        tx.delete_shared(&Scope::new(account, share.region.clone()), &g.resource_id, &share.arn)?;
    }
    let membership = Membership::of(share);
    for joined in after.members.iter().filter(|m| !before.members.contains(m)) {
        let scope = Scope::new(joined.clone(), share.region.clone());
        if tx.load::<Membership>(&scope, &membership.id)?.is_none() {
            tx.create(&scope, &membership)?;
        }
    }
    for left in before.members.iter().filter(|m| !after.members.contains(m)) {
        tx.remove::<Membership>(&Scope::new(left.clone(), share.region.clone()), &membership.id)?;
    }
    Ok(())
}

/// The pending invitation of a principal that stops associating (removed, or the share
/// deleted) goes away with it.
fn withdraw_invitation(tx: &mut dyn Tx, share: &ResourceShare, a: &Association) -> ApiResult<()> {
    if a.status != AssociationStatus::Associating {
        return Ok(());
    }
    let (Some(account), Some(arn)) = (AccountId::parse(&a.entity), a.invitation.as_deref()) else {
        return Ok(());
    };
    let r = domain::invitation_ref(arn)?;
    tx.remove::<Invitation>(&Scope::new(account, share.region.clone()), &domain::invitation_id(&r.id))?;
    Ok(())
}

/// Adds resources (each must exist in the owner's scope) and principals to a share;
/// returns the associations named, as they are now.
fn add_to_share(
    tx: &mut dyn Tx,
    share: &mut ResourceShare,
    resources: &[String],
    principals: &[String],
    organization: bool,
    now: Timestamp,
) -> ApiResult<Vec<Association>> {
    let owner_scope = Scope::new(share.owner.clone(), share.region.clone());
    let mut touched = Vec::new();
    for arn in resources {
        let r = domain::resource_ref(arn, &share.owner, &share.region)?;
        if tx.get(&owner_scope, r.kind.kind.storage_name(), &r.id)?.is_none() {
            return Err(RamError::ResourceNotFound(arn.clone()).into());
        }
        share.add_resource(&r, now)?;
        touched.push((AssociationKind::Resource, arn.clone()));
    }
    for p in principals {
        let account = domain::principal(p, &share.owner)?;
        if share.add_principal(&account, organization, now)? == Joined::Invited {
            let uuid = new_uuid(&mut OsRandom);
            let invitation = Invitation::new(&uuid, share, &account, now);
            share.invited(&account, &invitation.arn);
            tx.create(&Scope::new(account.clone(), share.region.clone()), &invitation)?;
        }
        touched.push((AssociationKind::Principal, account.to_string()));
    }
    let mut out: Vec<Association> = Vec::new();
    for (kind, entity) in touched {
        if let Some(a) = share.find(kind, &entity)
            && !out.iter().any(|o| o.kind == kind && o.entity == entity)
        {
            out.push(a.clone());
        }
    }
    Ok(out)
}

// ----- idempotency ---------------------------------------------------------------------

/// Runs a mutation that takes a `clientToken`: the same token with the same parameters
/// answers the first result and changes nothing; with other parameters
/// `IdempotentParameterMismatchException`. `f` returns the response body.
async fn idempotent<F>(
    cx: &Cx,
    operation: &'static str,
    token: Option<String>,
    params: String,
    mut f: F,
) -> ApiResult<Vec<u8>>
where
    F: FnMut(&mut dyn Tx) -> ApiResult<Vec<u8>> + Send + 'static,
{
    let scope = cx.scope.clone();
    let now = cx.now;
    cx.write(false, move |tx| {
        if let Some(token) = &token {
            let existing = tx.get_idempotency(&scope, operation, token)?.map(|r| IdempotencyRecord {
                fingerprint: r.fingerprint,
                result: r.result,
                created: Timestamp(r.created),
            });
            if let Decision::Replay(result) =
                idempotency::decide(token, &params, existing.as_ref()).map_err(ram_idempotency_error)?
            {
                return Ok(result.into_bytes());
            }
        }
        let out = f(tx)?;
        if let Some(token) = &token {
            let result = String::from_utf8(out.clone()).map_err(|e| ApiError::Internal(e.to_string()))?;
            let row = IdempotencyRow { fingerprint: params.clone(), result, created: now.millis() };
            tx.put_idempotency(&scope, operation, token, &row)?;
        }
        Ok(out)
    })
    .await
}

fn params_of<T: serde::Serialize>(input: &T) -> String {
    serde_json::to_string(input).unwrap_or_default()
}

// ----- shares ----------------------------------------------------------------------------

fn tags_of(tags: Option<Vec<api::Tag>>) -> ApiResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tags.unwrap_or_default() {
        let key = t.key.unwrap_or_default();
        let value = t.value.unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 || key.starts_with("aws:") {
            return Err(RamError::InvalidParameter(format!(
                "The tag key '{key}' is not valid: tag keys are 1 to 128 characters, not starting with aws:, and \
                 values at most 256."
            ))
            .into());
        }
        if out.iter().any(|(k, _)| k == &key) {
            return Err(RamError::InvalidParameter(format!("The tag key '{key}' is given more than once.")).into());
        }
        out.push((key, value));
    }
    if out.len() > 50 {
        return Err(ApiError::new(
            api::codes::TAG_LIMIT_EXCEEDED_EXCEPTION,
            "A resource share can have at most 50 tags.",
        ));
    }
    Ok(out)
}

async fn create_resource_share(cx: &Cx, input: api::CreateResourceShareRequest) -> ApiResult<Vec<u8>> {
    use api::CreateResourceShareRequestMember as M;
    supported(
        "CreateResourceShare",
        &input,
        &[M::Name, M::ResourceArns, M::Principals, M::Tags, M::AllowExternalPrincipals, M::ClientToken],
    )?;
    let name = input.name.clone().unwrap_or_default();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(RamError::InvalidParameter("The name of a resource share is 1 to 255 characters.".into()).into());
    }
    let tags = tags_of(input.tags.clone())?;
    let token = input.client_token.clone();
    let params = params_of(&api::CreateResourceShareRequest { client_token: None, ..input.clone() });
    let resources = input.resource_arns.unwrap_or_default();
    let principals = input.principals.unwrap_or_default();
    let allow_external = input.allow_external_principals.unwrap_or(true);
    let (scope, now, organization) = (cx.scope.clone(), cx.now, cx.state.ram_organization);
    let echo = token.clone();
    idempotent(cx, "CreateResourceShare", token, params, move |tx| {
        let uuid = new_uuid(&mut OsRandom);
        let mut share =
            ResourceShare::new(&uuid, &name, &scope.account, &scope.region, allow_external, tags.clone(), now);
        let before = access(&share);
        add_to_share(tx, &mut share, &resources, &principals, organization, now)?;
        tx.create(&scope, &share)?;
        sync_access(tx, &before, &share)?;
        Ok(to_body(&api::CreateResourceShareResponse {
            resource_share: Some(share_to_wire(&share)),
            client_token: echo.clone(),
        }))
    })
    .await
}

async fn associate_resource_share(cx: &Cx, input: api::AssociateResourceShareRequest) -> ApiResult<Vec<u8>> {
    use api::AssociateResourceShareRequestMember as M;
    supported(
        "AssociateResourceShare",
        &input,
        &[M::ResourceShareArn, M::ResourceArns, M::Principals, M::ClientToken],
    )?;
    let token = input.client_token.clone();
    let params = params_of(&api::AssociateResourceShareRequest { client_token: None, ..input.clone() });
    let arn = input.resource_share_arn.unwrap_or_default();
    let resources = input.resource_arns.unwrap_or_default();
    let principals = input.principals.unwrap_or_default();
    let (scope, now, organization) = (cx.scope.clone(), cx.now, cx.state.ram_organization);
    let echo = token.clone();
    idempotent(cx, "AssociateResourceShare", token, params, move |tx| {
        let mut share = own_share(tx, &scope, &arn)?;
        let before = access(&share);
        let touched = add_to_share(tx, &mut share, &resources, &principals, organization, now)?;
        tx.save(&scope, &share)?;
        sync_access(tx, &before, &share)?;
        Ok(to_body(&api::AssociateResourceShareResponse {
            resource_share_associations: Some(
                touched
                    .iter()
                    .map(|a| association_to_wire(&share, a, api::ResourceShareAssociationStatus::Associating))
                    .collect(),
            ),
            client_token: echo.clone(),
        }))
    })
    .await
}

/// `DisassociateResourceShare`: the owner removes principals and resources; a principal
/// may also leave a share it was given (itself as the only principal, no resources), as
/// Terraform's `aws_ram_resource_share_accepter` does on destroy.
async fn disassociate_resource_share(cx: &Cx, input: api::DisassociateResourceShareRequest) -> ApiResult<Vec<u8>> {
    use api::DisassociateResourceShareRequestMember as M;
    supported(
        "DisassociateResourceShare",
        &input,
        &[M::ResourceShareArn, M::ResourceArns, M::Principals, M::ClientToken],
    )?;
    let token = input.client_token.clone();
    let params = params_of(&api::DisassociateResourceShareRequest { client_token: None, ..input.clone() });
    let arn = input.resource_share_arn.unwrap_or_default();
    let resources = input.resource_arns.unwrap_or_default();
    let principals = input.principals.unwrap_or_default();
    let (scope, now) = (cx.scope.clone(), cx.now);
    let echo = token.clone();
    idempotent(cx, "DisassociateResourceShare", token, params, move |tx| {
        let r = domain::share_ref(&arn)?;
        let (owner_scope, mut share) = if r.account == scope.account {
            (scope.clone(), own_share(tx, &scope, &arn)?)
        } else {
            // Leaving a share of another account: only one shared from outside the
            // organization (RAM user guide, "Leaving a resource share").
            let owner_scope = Scope::new(r.account.clone(), r.region.clone());
            let share = match tx.load::<ResourceShare>(&owner_scope, &domain::share_id(&r.id))? {
                Some(s)
                    if r.region == scope.region
                        && s.find(AssociationKind::Principal, scope.account.as_str()).is_some() =>
                {
                    s
                }
                _ => return Err(RamError::ShareNotFound(arn.clone()).into()),
            };
            let external = share.find(AssociationKind::Principal, scope.account.as_str()).is_some_and(|a| a.external);
            if !external || !resources.is_empty() || principals.iter().any(|p| p != scope.account.as_str()) {
                return Err(RamError::NotOwner(arn.clone()).into());
            }
            (owner_scope, share)
        };
        let before = access(&share);
        let mut touched = Vec::new();
        for resource in &resources {
            if reservoir_domain::arn::Arn::parse(resource).is_none() {
                return Err(RamError::MalformedArn(resource.clone()).into());
            }
            touched.push(share.remove(AssociationKind::Resource, resource, now)?);
        }
        for p in &principals {
            let account = AccountId::parse(p).ok_or_else(|| RamError::MalformedPrincipal(p.clone()))?;
            let was = share.find(AssociationKind::Principal, account.as_str()).cloned();
            touched.push(share.remove(AssociationKind::Principal, account.as_str(), now)?);
            if let Some(was) = was {
                withdraw_invitation(tx, &share, &was)?;
            }
        }
        tx.save(&owner_scope, &share)?;
        sync_access(tx, &before, &share)?;
        Ok(to_body(&api::DisassociateResourceShareResponse {
            resource_share_associations: Some(
                touched
                    .iter()
                    .map(|a| association_to_wire(&share, a, api::ResourceShareAssociationStatus::Disassociating))
                    .collect(),
            ),
            client_token: echo.clone(),
        }))
    })
    .await
}

/// `DeleteResourceShare`: the share stays, `DELETED`, its associations `DISASSOCIATED`;
/// access ends and pending invitations are withdrawn.
async fn delete_resource_share(cx: &Cx, input: api::DeleteResourceShareRequest) -> ApiResult<Vec<u8>> {
    let token = input.client_token.clone();
    let arn = input.resource_share_arn.unwrap_or_default();
    let params = fingerprint([("resourceShareArn", arn.as_str())]);
    let (scope, now) = (cx.scope.clone(), cx.now);
    let echo = token.clone();
    idempotent(cx, "DeleteResourceShare", token, params, move |tx| {
        let mut share = own_share(tx, &scope, &arn)?;
        let before = access(&share);
        let pending: Vec<Association> = share.principals().cloned().collect();
        share.delete(now)?;
        for a in &pending {
            withdraw_invitation(tx, &share, a)?;
        }
        tx.save(&scope, &share)?;
        sync_access(tx, &before, &share)?;
        Ok(to_body(&api::DeleteResourceShareResponse { return_value: Some(true), client_token: echo.clone() }))
    })
    .await
}

// ----- invitations -----------------------------------------------------------------------

async fn answer_invitation(
    cx: &Cx,
    operation: &'static str,
    arn: String,
    token: Option<String>,
    accept: bool,
) -> ApiResult<Vec<u8>> {
    let params = fingerprint([("resourceShareInvitationArn", arn.as_str())]);
    let (scope, now) = (cx.scope.clone(), cx.now);
    let echo = token.clone();
    idempotent(cx, operation, token, params, move |tx| {
        let r = domain::invitation_ref(&arn)?;
        let not_found = || ApiError::from(RamError::InvitationNotFound(arn.clone()));
        if r.region != scope.region {
            return Err(not_found());
        }
        let mut invitation = tx.load::<Invitation>(&scope, &domain::invitation_id(&r.id))?.ok_or_else(not_found)?;
        if invitation.sender != r.account {
            return Err(not_found());
        }
        if accept {
            invitation.accept(now)?
        } else {
            invitation.reject(now)?
        }
        tx.save(&scope, &invitation)?;
        let owner_scope = Scope::new(invitation.sender.clone(), scope.region.clone());
        let share_uuid = domain::share_ref(&invitation.share_arn)?.id;
        if let Some(mut share) = tx.load::<ResourceShare>(&owner_scope, &domain::share_id(&share_uuid))? {
            let before = access(&share);
            if accept {
                share.principal_accepted(&scope.account, now);
            } else {
                share.principal_declined(&scope.account, now);
            }
            tx.save(&owner_scope, &share)?;
            sync_access(tx, &before, &share)?;
        }
        let wire = Some(invitation_to_wire(&invitation, now));
        Ok(if accept {
            to_body(&api::AcceptResourceShareInvitationResponse {
                resource_share_invitation: wire,
                client_token: echo.clone(),
            })
        } else {
            to_body(&api::RejectResourceShareInvitationResponse {
                resource_share_invitation: wire,
                client_token: echo.clone(),
            })
        })
    })
    .await
}

// ----- listings ----------------------------------------------------------------------------

/// Where a position in a listing is: the store sequence of the share (or membership)
/// and the index of the item inside it.
type Cursor = (i64, i64);

fn page_size(asked: Option<i32>) -> usize {
    asked.map_or(MAX_PAGE, |n| n.clamp(1, MAX_PAGE as i32) as usize)
}

fn decode_cursor(cx: &Cx, operation: &str, fp: &str, token: Option<&str>) -> ApiResult<Option<Cursor>> {
    let Some(token) = token else { return Ok(None) };
    let binding = Binding { operation, scope: &cx.scope, fingerprint: fp };
    let cursor = cx.state.tokens.decode(&binding, token).map_err(ram_token_error)?;
    let bad = || ram_token_error(reservoir_domain::pagination::TokenError::Invalid);
    let (a, b) = cursor.split_once(':').ok_or_else(bad)?;
    Ok(Some((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?)))
}

fn encode_cursor(cx: &Cx, operation: &str, fp: &str, c: Cursor) -> String {
    let binding = Binding { operation, scope: &cx.scope, fingerprint: fp };
    cx.state.tokens.encode(&binding, &format!("{}:{}", c.0, c.1))
}

/// Which shares a listing reads: the caller's own, or those shared with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Me,
    Others,
}

fn owner_of(o: Option<&api::ResourceOwner>) -> ApiResult<Owner> {
    match o {
        Some(api::ResourceOwner::SelfValue) => Ok(Owner::Me),
        Some(api::ResourceOwner::OtherAccounts) => Ok(Owner::Others),
        Some(api::ResourceOwner::Unknown(v)) => Err(RamError::InvalidParameter(format!(
            "{v} is not a valid resource owner. Specify either SELF or OTHER-ACCOUNTS and try again."
        ))
        .into()),
        None => Err(RamError::MissingParameter("resourceOwner").into()),
    }
}

/// Scans shares in store order from `after`, taking the items `f` finds in each, until a
/// page of `limit` is full; returns the page and the cursor of its last item when more
/// follow.
fn scan<T, F>(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    owner: Owner,
    after: Option<Cursor>,
    limit: usize,
    mut f: F,
) -> ApiResult<(Vec<T>, Option<Cursor>)>
where
    F: FnMut(&ResourceShare) -> Vec<(usize, T)>,
{
    let mut found: Vec<(Cursor, T)> = Vec::new();
    let mut seq = after.map_or(0, |(s, _)| s - 1);
    'outer: loop {
        let batch: Vec<(i64, ResourceShare)> = match owner {
            Owner::Me => tx.page::<ResourceShare>(scope, seq, SCAN_BATCH)?,
            Owner::Others => {
                let memberships = tx.page::<Membership>(scope, seq, SCAN_BATCH)?;
                let mut shares = Vec::with_capacity(memberships.len());
                for (s, m) in memberships {
                    let owner_scope = Scope::new(m.owner.clone(), scope.region.clone());
                    let share = tx.load::<ResourceShare>(&owner_scope, &m.share_id)?;
                    shares.push((s, share.unwrap_or_else(|| placeholder(&m))));
                }
                shares
            }
        };
        let n = batch.len();
        for (s, share) in batch {
            seq = s;
            for (i, item) in f(&share) {
                let at = (s, i as i64);
                if after.is_some_and(|a| at <= a) {
                    continue;
                }
                found.push((at, item));
                if found.len() > limit {
                    break 'outer;
                }
            }
        }
        if n < SCAN_BATCH {
            break;
        }
    }
    let next = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|(c, _)| *c)
    } else {
        None
    };
    Ok((found.into_iter().map(|(_, t)| t).collect(), next))
}

/// A membership whose share vanished: matches nothing.
fn placeholder(m: &Membership) -> ResourceShare {
    let mut s = ResourceShare::new("", "", &m.owner, "", false, Vec::new(), Timestamp(0));
    s.status = ShareStatus::Deleted;
    s
}

fn check_share_arns(arns: &[String]) -> ApiResult<()> {
    for a in arns {
        domain::share_ref(a)?;
    }
    Ok(())
}

async fn get_resource_shares(
    cx: &Cx,
    input: api::GetResourceSharesRequest,
) -> ApiResult<api::GetResourceSharesResponse> {
    use api::GetResourceSharesRequestMember as M;
    supported(
        "GetResourceShares",
        &input,
        &[
            M::ResourceShareArns,
            M::ResourceShareStatus,
            M::ResourceOwner,
            M::Name,
            M::TagFilters,
            M::NextToken,
            M::MaxResults,
        ],
    )?;
    let owner = owner_of(input.resource_owner.as_ref())?;
    let arns = input.resource_share_arns.clone().unwrap_or_default();
    check_share_arns(&arns)?;
    let status = match &input.resource_share_status {
        None => None,
        Some(api::ResourceShareStatus::Active) => Some(ShareStatus::Active),
        Some(api::ResourceShareStatus::Deleted) => Some(ShareStatus::Deleted),
        // Reservoir's shares are never pending, failed or deleting.
        Some(_) => return Ok(api::GetResourceSharesResponse { resource_shares: Some(Vec::new()), next_token: None }),
    };
    let fp = params_of(&api::GetResourceSharesRequest { next_token: None, max_results: None, ..input.clone() });
    let after = decode_cursor(cx, "GetResourceShares", &fp, input.next_token.as_deref())?;
    let limit = page_size(input.max_results);
    let name = input.name.clone();
    let tag_filters = input.tag_filters.clone().unwrap_or_default();
    let scope = cx.scope.clone();
    let (shares, next) = cx
        .read(move |tx| {
            scan(tx, &scope, owner, after, limit, |s| {
                let visible = owner == Owner::Me || s.grants_to(&scope.account);
                let matches = visible
                    && (arns.is_empty() || arns.contains(&s.arn))
                    && status.is_none_or(|st| st == s.status)
                    && name.as_ref().is_none_or(|n| n == &s.name)
                    && tag_filters.iter().all(|f| {
                        let key = f.tag_key.as_deref().unwrap_or_default();
                        let values = f.tag_values.as_deref().unwrap_or_default();
                        s.tags.iter().any(|(k, v)| k == key && (values.is_empty() || values.contains(v)))
                    });
                if matches { vec![(0, share_to_wire(s))] } else { Vec::new() }
            })
        })
        .await?;
    Ok(api::GetResourceSharesResponse {
        resource_shares: Some(shares),
        next_token: next.map(|c| encode_cursor(cx, "GetResourceShares", &fp, c)),
    })
}

async fn get_resource_share_associations(
    cx: &Cx,
    input: api::GetResourceShareAssociationsRequest,
) -> ApiResult<api::GetResourceShareAssociationsResponse> {
    let kind = match &input.association_type {
        Some(api::ResourceShareAssociationType::Principal) => AssociationKind::Principal,
        Some(api::ResourceShareAssociationType::Resource) => AssociationKind::Resource,
        Some(other) => {
            return Err(RamError::InvalidParameter(format!(
                "{} is not a valid association type. Specify either PRINCIPAL or RESOURCE and try again.",
                reservoir_wire::WireEnum::as_str(other)
            ))
            .into());
        }
        None => return Err(RamError::MissingParameter("associationType").into()),
    };
    if kind == AssociationKind::Principal && input.resource_arn.is_some() {
        return Err(RamError::InvalidParameter(
            "You cannot specify a resource ARN when the association type is PRINCIPAL.".into(),
        )
        .into());
    }
    if kind == AssociationKind::Resource && input.principal.is_some() {
        return Err(RamError::InvalidParameter(
            "You cannot specify a principal when the association type is RESOURCE.".into(),
        )
        .into());
    }
    let arns = input.resource_share_arns.clone().unwrap_or_default();
    check_share_arns(&arns)?;
    if let Some(r) = &input.resource_arn
        && reservoir_domain::arn::Arn::parse(r).is_none()
    {
        return Err(RamError::MalformedArn(r.clone()).into());
    }
    let status = input.association_status.clone();
    let fp =
        params_of(&api::GetResourceShareAssociationsRequest { next_token: None, max_results: None, ..input.clone() });
    let after = decode_cursor(cx, "GetResourceShareAssociations", &fp, input.next_token.as_deref())?;
    let limit = page_size(input.max_results);
    let entity = input.resource_arn.clone().or(input.principal.clone());
    let scope = cx.scope.clone();
    let (associations, next) = cx
        .read(move |tx| {
            scan(tx, &scope, Owner::Me, after, limit, |s| {
                if !arns.is_empty() && !arns.contains(&s.arn) {
                    return Vec::new();
                }
                // Associations are never removed: their index is a stable cursor.
                s.associations
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| {
                        a.kind == kind
                            && entity.as_ref().is_none_or(|e| e == &a.entity)
                            && status.as_ref().is_none_or(|st| *st == status_to_wire(a.status))
                    })
                    .map(|(i, a)| (i, association_to_wire(s, a, status_to_wire(a.status))))
                    .collect()
            })
        })
        .await?;
    Ok(api::GetResourceShareAssociationsResponse {
        resource_share_associations: Some(associations),
        next_token: next.map(|c| encode_cursor(cx, "GetResourceShareAssociations", &fp, c)),
    })
}

async fn get_resource_share_invitations(
    cx: &Cx,
    input: api::GetResourceShareInvitationsRequest,
) -> ApiResult<api::GetResourceShareInvitationsResponse> {
    let invitation_arns = input.resource_share_invitation_arns.clone().unwrap_or_default();
    for a in &invitation_arns {
        domain::invitation_ref(a)?;
    }
    let share_arns = input.resource_share_arns.clone().unwrap_or_default();
    check_share_arns(&share_arns)?;
    let fp =
        params_of(&api::GetResourceShareInvitationsRequest { next_token: None, max_results: None, ..input.clone() });
    let after = decode_cursor(cx, "GetResourceShareInvitations", &fp, input.next_token.as_deref())?.map_or(0, |c| c.0);
    let limit = page_size(input.max_results);
    let (scope, now) = (cx.scope.clone(), cx.now);
    let (invitations, next) = cx
        .read(move |tx| {
            // An invitation ARN asked for by name must be the caller's.
            for a in &invitation_arns {
                let r = domain::invitation_ref(a)?;
                let found = r.region == scope.region
                    && tx.load::<Invitation>(&scope, &domain::invitation_id(&r.id))?.is_some_and(|i| &i.arn == a);
                if !found {
                    return Err(RamError::InvitationNotFound(a.clone()).into());
                }
            }
            let mut out = Vec::new();
            let mut seq = after;
            loop {
                let batch = tx.page::<Invitation>(&scope, seq, SCAN_BATCH)?;
                let n = batch.len();
                for (s, i) in batch {
                    seq = s;
                    if (invitation_arns.is_empty() || invitation_arns.contains(&i.arn))
                        && (share_arns.is_empty() || share_arns.contains(&i.share_arn))
                    {
                        out.push((s, invitation_to_wire(&i, now)));
                        if out.len() > limit {
                            break;
                        }
                    }
                }
                if n < SCAN_BATCH || out.len() > limit {
                    break;
                }
            }
            let next = if out.len() > limit {
                out.truncate(limit);
                out.last().map(|(s, _)| *s)
            } else {
                None
            };
            Ok((out.into_iter().map(|(_, i)| i).collect::<Vec<_>>(), next))
        })
        .await?;
    Ok(api::GetResourceShareInvitationsResponse {
        resource_share_invitations: Some(invitations),
        next_token: next.map(|s| encode_cursor(cx, "GetResourceShareInvitations", &fp, (s, 0))),
    })
}

fn type_filter(t: Option<&str>) -> ApiResult<Option<&'static str>> {
    t.map(|t| domain::resource_type(t).map(|t| t.name)).transpose().map_err(ApiError::from)
}

async fn list_resources(cx: &Cx, input: api::ListResourcesRequest) -> ApiResult<api::ListResourcesResponse> {
    let owner = owner_of(input.resource_owner.as_ref())?;
    let kind = type_filter(input.resource_type.as_deref())?;
    let share_arns = input.resource_share_arns.clone().unwrap_or_default();
    check_share_arns(&share_arns)?;
    let resource_arns = input.resource_arns.clone().unwrap_or_default();
    for a in &resource_arns {
        if reservoir_domain::arn::Arn::parse(a).is_none() {
            return Err(RamError::MalformedArn(a.clone()).into());
        }
    }
    let global_only = matches!(input.resource_region_scope, Some(api::ResourceRegionScopeFilter::Global));
    let principal = input.principal.clone();
    let fp = params_of(&api::ListResourcesRequest { next_token: None, max_results: None, ..input.clone() });
    let after = decode_cursor(cx, "ListResources", &fp, input.next_token.as_deref())?;
    let limit = page_size(input.max_results);
    let scope = cx.scope.clone();
    let (resources, next) = cx
        .read(move |tx| {
            scan(tx, &scope, owner, after, limit, |s| {
                let visible = match owner {
                    Owner::Me => s.status == ShareStatus::Active,
                    Owner::Others => s.grants_to(&scope.account),
                };
                let share_ok = visible
                    && !global_only
                    && (share_arns.is_empty() || share_arns.contains(&s.arn))
                    && principal
                        .as_ref()
                        .is_none_or(|p| s.find(AssociationKind::Principal, p).is_some_and(Association::is_live));
                if !share_ok {
                    return Vec::new();
                }
                s.associations
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.kind == AssociationKind::Resource && a.is_live())
                    .filter(|(_, a)| kind.is_none_or(|k| a.resource_type.as_deref() == Some(k)))
                    .filter(|(_, a)| resource_arns.is_empty() || resource_arns.contains(&a.entity))
                    .map(|(i, a)| {
                        (
                            i,
                            api::Resource {
                                arn: Some(a.entity.clone()),
                                r#type: a.resource_type.clone(),
                                resource_share_arn: Some(s.arn.clone()),
                                resource_group_arn: None,
                                status: Some(api::ResourceStatus::Available),
                                status_message: None,
                                creation_time: Some(date(a.created)),
                                last_updated_time: Some(date(a.updated)),
                                resource_region_scope: Some(api::ResourceRegionScope::Regional),
                            },
                        )
                    })
                    .collect()
            })
        })
        .await?;
    Ok(api::ListResourcesResponse {
        resources: Some(resources),
        next_token: next.map(|c| encode_cursor(cx, "ListResources", &fp, c)),
    })
}

async fn list_principals(cx: &Cx, input: api::ListPrincipalsRequest) -> ApiResult<api::ListPrincipalsResponse> {
    let owner = owner_of(input.resource_owner.as_ref())?;
    let kind = type_filter(input.resource_type.as_deref())?;
    let share_arns = input.resource_share_arns.clone().unwrap_or_default();
    check_share_arns(&share_arns)?;
    if let Some(r) = &input.resource_arn
        && reservoir_domain::arn::Arn::parse(r).is_none()
    {
        return Err(RamError::MalformedArn(r.clone()).into());
    }
    let resource_arn = input.resource_arn.clone();
    let principals = input.principals.clone().unwrap_or_default();
    let fp = params_of(&api::ListPrincipalsRequest { next_token: None, max_results: None, ..input.clone() });
    let after = decode_cursor(cx, "ListPrincipals", &fp, input.next_token.as_deref())?;
    let limit = page_size(input.max_results);
    let scope = cx.scope.clone();
    let (found, next) = cx
        .read(move |tx| {
            scan(tx, &scope, owner, after, limit, |s| {
                let visible = match owner {
                    Owner::Me => s.status == ShareStatus::Active,
                    Owner::Others => s.grants_to(&scope.account),
                };
                let share_ok = visible
                    && (share_arns.is_empty() || share_arns.contains(&s.arn))
                    && resource_arn.as_ref().is_none_or(|r| s.resources().any(|a| &a.entity == r))
                    && kind.is_none_or(|k| s.resources().any(|a| a.resource_type.as_deref() == Some(k)));
                if !share_ok {
                    return Vec::new();
                }
                s.associations
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.kind == AssociationKind::Principal && a.is_live())
                    .filter(|(_, a)| owner == Owner::Me || a.entity == scope.account.as_str())
                    .filter(|(_, a)| principals.is_empty() || principals.contains(&a.entity))
                    .map(|(i, a)| {
                        (
                            i,
                            api::Principal {
                                id: Some(a.entity.clone()),
                                resource_share_arn: Some(s.arn.clone()),
                                creation_time: Some(date(a.created)),
                                last_updated_time: Some(date(a.updated)),
                                external: Some(a.external),
                            },
                        )
                    })
                    .collect()
            })
        })
        .await?;
    Ok(api::ListPrincipalsResponse {
        principals: Some(found),
        next_token: next.map(|c| encode_cursor(cx, "ListPrincipals", &fp, c)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppState, Config};

    const UUID: &str = "7ab63972-b505-4e2a-820d-6f5d3e9a1b2c";

    fn account(a: &str) -> AccountId {
        AccountId::parse(a).unwrap()
    }

    /// `shared_resources` rows and memberships follow access: granted when a principal
    /// and a resource are both associated, gone when either leaves or the share is deleted.
    #[test]
    fn shared_rows_follow_access() {
        let state = AppState::open(Config::ephemeral()).unwrap();
        let (owner, consumer) = (account("111111111111"), account("222222222222"));
        let consumer_scope = Scope::new(consumer.clone(), "us-east-1");
        let pool = domain::resource_ref(
            "arn:aws:ec2::111111111111:ipam-pool/ipam-pool-0123456789abcdef0",
            &owner,
            "us-east-1",
        )
        .unwrap();
        let rows = |state: &AppState| {
            reservoir_store::read(&*state.store, |tx| -> ApiResult<_> {
                let rows = tx.shared_of_kind(&consumer_scope, "ipam-pool", None, 10)?;
                let member = tx.load::<Membership>(&consumer_scope, &domain::membership_id(UUID))?.is_some();
                Ok((rows, member))
            })
            .unwrap()
        };
        let mut share = ResourceShare::new(UUID, "s", &owner, "us-east-1", true, Vec::new(), Timestamp(1));
        let step = |state: &AppState, share: &ResourceShare, before: Access| {
            let share = share.clone();
            reservoir_store::write(&*state.store, move |tx| sync_access(tx, &before, &share)).unwrap();
        };

        // Invited, not accepted: nothing.
        let before = access(&share);
        share.add_resource(&pool, Timestamp(2)).unwrap();
        share.add_principal(&consumer, false, Timestamp(2)).unwrap();
        step(&state, &share, before);
        assert_eq!(rows(&state), (Vec::new(), false));

        // Accepted: one row, and a membership.
        let before = access(&share);
        share.principal_accepted(&consumer, Timestamp(3));
        step(&state, &share, before);
        let (granted, member) = rows(&state);
        assert!(member);
        assert_eq!(
            granted,
            vec![SharedRow {
                resource: "ipam-pool-0123456789abcdef0".into(),
                kind: "ipam-pool".into(),
                owner: "111111111111".into(),
                share: share.arn.clone(),
            }]
        );

        // The pool leaves: no row, still a member.
        let before = access(&share);
        share.remove(AssociationKind::Resource, &pool.arn, Timestamp(4)).unwrap();
        step(&state, &share, before);
        assert_eq!(rows(&state), (Vec::new(), true));

        // Back, then the share is deleted: nothing.
        let before = access(&share);
        share.add_resource(&pool, Timestamp(5)).unwrap();
        step(&state, &share, before);
        assert_eq!(rows(&state).0.len(), 1);
        let before = access(&share);
        share.delete(Timestamp(6)).unwrap();
        step(&state, &share, before);
        assert_eq!(rows(&state), (Vec::new(), false));
    }
}
