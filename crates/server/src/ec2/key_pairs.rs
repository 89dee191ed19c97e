//! `CreateKeyPair`, `ImportKeyPair`, `DescribeKeyPairs`, `DeleteKeyPair`. Only the public
//! half of a key pair is kept, as in EC2. A name is unique in its (account, Region): the
//! alias `key-pair-name` → id is read and written in the transaction that creates the
//! key pair, and the store serializes write transactions.

use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::key_pair::{self, KeyPair, KeyPairError, KeyType};
use reservoir_domain::tags::Tag;
use reservoir_store::{ReadTx, ReadTxExt, TxExt};
use reservoir_wire::datetime::DateTime;
use reservoir_wire::ec2_api as api;

use super::shared::{Call, filter_set, listing, put_tags, tag_specifications, wire_tags};
use crate::error::{ApiError, ApiResult};

/// The alias namespace naming key pairs: name → id.
pub const NAME_ALIAS: &str = "key-pair-name";

/// `DescribeKeyPairs` has no pagination: one answer lists every match (EC2's quota is
/// 5,000 key pairs per Region).
const EVERYTHING: usize = usize::MAX / 2;

fn key_type(t: Option<api::KeyType>) -> ApiResult<KeyType> {
    match t {
        None | Some(api::KeyType::Rsa) => Ok(KeyType::Rsa),
        Some(api::KeyType::Ed25519) => Ok(KeyType::Ed25519),
        Some(api::KeyType::Unknown(v)) => Err(KeyPairError::InvalidValue(format!(
            "Value ({v}) for parameter keyType is invalid. Valid values are: rsa, ed25519."
        ))
        .into()),
    }
}

fn wire_key_type(t: KeyType) -> api::KeyType {
    match t {
        KeyType::Rsa => api::KeyType::Rsa,
        KeyType::Ed25519 => api::KeyType::Ed25519,
    }
}

fn key_name(name: Option<String>) -> ApiResult<String> {
    let name = name.ok_or(KeyPairError::Missing("KeyName"))?;
    key_pair::check_name(&name)?;
    Ok(name)
}

/// Stores a new key pair named `name` with its tags, refusing a name already used.
async fn store(
    call: &Call,
    dry_run: bool,
    name: String,
    key_type: KeyType,
    fingerprint: String,
    public_key: String,
    tags: Vec<Tag>,
) -> ApiResult<(KeyPair, Vec<Tag>)> {
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    call.write(dry_run, move |tx| {
        if tx.get_alias(&scope, NAME_ALIAS, &name)?.is_some() {
            return Err(KeyPairError::Duplicate(name.clone()).into());
        }
        let kp = KeyPair {
            id: ResourceKind::KeyPair.new_id(&mut OsRandom),
            name: name.clone(),
            key_type,
            fingerprint: fingerprint.clone(),
            public_key: public_key.clone(),
            created: now,
        };
        tx.put_alias(&scope, NAME_ALIAS, &kp.name, &kp.id)?;
        tx.create(&scope, &kp)?;
        put_tags(tx, &scope, &kp.id, ResourceKind::KeyPair, &tags)?;
        Ok((kp, tags.clone()))
    })
    .await
}

/// EC2 `CreateKeyPair`: an RSA (2048 bits, PKCS#1 PEM) or ED25519 (OpenSSH format) key
/// pair, `KeyFormat` `pem` (`ppk` answers 501), `TagSpecifications` (`key-pair`).
/// Errors: `MissingParameter`, `InvalidParameterValue`, `InvalidKeyPair.Duplicate`,
/// `TagLimitExceeded`, `DryRunOperation`.
pub async fn create_key_pair(call: &Call, input: api::CreateKeyPairRequest) -> ApiResult<api::KeyPair> {
    use api::CreateKeyPairRequestMember as M;
    call.supported(&input, &[M::KeyName, M::KeyType, M::TagSpecifications, M::KeyFormat, M::DryRun])?;
    match &input.key_format {
        None | Some(api::KeyFormat::Pem) => {}
        Some(api::KeyFormat::Ppk) => {
            return Err(ApiError::ec2_unsupported_parameter(call.operation, "KeyFormat (ppk)"));
        }
        Some(api::KeyFormat::Unknown(v)) => {
            return Err(KeyPairError::InvalidValue(format!(
                "Value ({v}) for parameter keyFormat is invalid. Valid values are: pem, ppk."
            ))
            .into());
        }
    }
    let name = key_name(input.key_name)?;
    let kind = key_type(input.key_type)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::KeyPair)?;
    // An RSA key takes a moment to make: on a blocking thread, outside any transaction.
    let made = tokio::task::spawn_blocking(move || key_pair::make(kind, &mut OsRandom))
        .await
        .map_err(|e| ApiError::Internal(format!("key generation task: {e}")))??;
    let (kp, tags) =
        store(call, input.dry_run.unwrap_or(false), name, kind, made.fingerprint, made.public_key, tags).await?;
    Ok(api::KeyPair {
        key_pair_id: Some(kp.id),
        tags: wire_tags(tags),
        key_name: Some(kp.name),
        key_fingerprint: Some(kp.fingerprint),
        key_material: Some(made.material),
    })
}

/// EC2 `ImportKeyPair`: an RSA (1024–4096 bits) or ED25519 public key, in OpenSSH or RFC
/// 4716 format, or an RSA key as PEM or (base64) DER. Errors: `MissingParameter`,
/// `InvalidParameterValue`, `InvalidKey.Format`, `InvalidKeyPair.Duplicate`,
/// `TagLimitExceeded`, `DryRunOperation`.
pub async fn import_key_pair(call: &Call, input: api::ImportKeyPairRequest) -> ApiResult<api::ImportKeyPairResult> {
    use api::ImportKeyPairRequestMember as M;
    call.supported(&input, &[M::KeyName, M::PublicKeyMaterial, M::TagSpecifications, M::DryRun])?;
    let name = key_name(input.key_name)?;
    let material = input.public_key_material.ok_or(KeyPairError::Missing("PublicKeyMaterial"))?;
    let imported = key_pair::import(&material)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::KeyPair)?;
    let (kp, tags) = store(
        call,
        input.dry_run.unwrap_or(false),
        name,
        imported.key_type,
        imported.fingerprint,
        imported.public_key,
        tags,
    )
    .await?;
    Ok(api::ImportKeyPairResult {
        key_fingerprint: Some(kp.fingerprint),
        key_name: Some(kp.name),
        key_pair_id: Some(kp.id),
        tags: wire_tags(tags),
    })
}

/// The ids of key pairs named `names`, each of which must exist.
fn ids_of_names(
    tx: &mut dyn ReadTx,
    scope: &reservoir_domain::account::Scope,
    names: &[String],
) -> ApiResult<Vec<String>> {
    let mut ids = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    for n in names {
        match tx.get_alias(scope, NAME_ALIAS, n)? {
            Some(id) => ids.push(id),
            None => missing.push(n.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(KeyPairError::NotFound(missing).into());
    }
    Ok(ids)
}

/// EC2 `DescribeKeyPairs`: by `KeyName.N` and/or `KeyPairId.N` (each must exist; given
/// both, the key pairs named by both), filters `key-pair-id`, `key-name`,
/// `fingerprint`, `key-type`, `tag:<key>`, `tag-key`, `tag-value`; `IncludePublicKey`.
/// Not paginated (the model has no `MaxResults`). Errors: `InvalidKeyPair.NotFound`,
/// `InvalidParameterValue`, `FilterLimitExceeded`, `DryRunOperation`.
pub async fn describe_key_pairs(
    call: &Call,
    input: api::DescribeKeyPairsRequest,
) -> ApiResult<api::DescribeKeyPairsResult> {
    use api::DescribeKeyPairsRequestMember as M;
    call.supported(&input, &[M::KeyNames, M::KeyPairIds, M::IncludePublicKey, M::DryRun, M::Filters])?;
    let filters = filter_set(input.filters, &key_pair::FILTERS)?;
    let names = input.key_names.unwrap_or_default();
    let mut given_ids = input.key_pair_ids.unwrap_or_default();
    for id in &given_ids {
        key_pair::check_id(id)?;
    }
    given_ids.sort();
    given_ids.dedup();
    let scope = call.cx.scope.clone();
    let items = call
        .read(move |tx| {
            let missing = |m: Vec<String>| KeyPairError::NotFound(m).into();
            if names.is_empty() {
                let page = listing::<KeyPair>(tx, &scope, &given_ids, &filters, 0, EVERYTHING, missing)?;
                return Ok(page.items);
            }
            let mut named = ids_of_names(tx, &scope, &names)?;
            named.sort();
            named.dedup();
            let ids = if given_ids.is_empty() { named.clone() } else { given_ids.clone() };
            let page = listing::<KeyPair>(tx, &scope, &ids, &filters, 0, EVERYTHING, missing)?;
            Ok(page.items.into_iter().filter(|(_, kp, _)| named.binary_search(&kp.id).is_ok()).collect())
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let include_public_key = input.include_public_key == Some(true);
    Ok(api::DescribeKeyPairsResult {
        key_pairs: Some(
            items
                .into_iter()
                .map(|(_, kp, tags)| api::KeyPairInfo {
                    public_key: include_public_key.then(|| kp.openssh_public_key()),
                    key_pair_id: Some(kp.id),
                    key_type: Some(wire_key_type(kp.key_type)),
                    tags: wire_tags(tags),
                    create_time: Some(DateTime::from_unix_millis(kp.created.millis())),
                    key_name: Some(kp.name),
                    key_fingerprint: Some(kp.fingerprint),
                })
                .collect(),
        ),
    })
}

/// EC2 `DeleteKeyPair`, by `KeyName` or `KeyPairId`. As in EC2, deleting a key pair that
/// does not exist succeeds (`Return` true, no `KeyPairId`). Errors: `MissingParameter`,
/// `InvalidParameterCombination`, `DryRunOperation`.
pub async fn delete_key_pair(call: &Call, input: api::DeleteKeyPairRequest) -> ApiResult<api::DeleteKeyPairResult> {
    use api::DeleteKeyPairRequestMember as M;
    call.supported(&input, &[M::KeyName, M::KeyPairId, M::DryRun])?;
    let scope = call.cx.scope.clone();
    let (name, id) = (input.key_name, input.key_pair_id);
    if name.is_none() && id.is_none() {
        return Err(KeyPairError::Missing("KeyName or KeyPairId").into());
    }
    if name.is_some() && id.is_some() {
        return Err(KeyPairError::Combination("Specify either KeyName or KeyPairId, not both.".into()).into());
    }
    let deleted = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let id = match (&name, &id) {
                (Some(n), _) => tx.get_alias(&scope, NAME_ALIAS, n)?,
                (None, Some(i)) => Some(i.clone()),
                (None, None) => None,
            };
            let Some(id) = id else { return Ok(None) };
            let Some(kp) = tx.load::<KeyPair>(&scope, &id)? else { return Ok(None) };
            tx.delete_alias(&scope, NAME_ALIAS, &kp.name)?;
            tx.remove::<KeyPair>(&scope, &kp.id)?;
            Ok(Some(kp.id))
        })
        .await?;
    Ok(api::DeleteKeyPairResult { r#return: Some(true), key_pair_id: deleted })
}
