//! The Cognito Sync story with aws-sdk-cognitoidentity and aws-sdk-cognitosync: an
//! identity pool with an unauthenticated role, identities syncing records in datasets,
//! the pool's usage counters (bytes and sync sessions) following every change, conflicts
//! refused without effect, and identities' temporary credentials reaching their own data
//! only.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cognitosync::config::Credentials;
use aws_sdk_cognitosync::error::ProvideErrorMetadata;
use aws_sdk_cognitosync::types::{IdentityPoolUsage, Operation, RecordPatch};
use common::{cognito_identity, cognito_sync, server};
use reservoir::RunningServer;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn replace(key: &str, value: &str, sync_count: i64) -> RecordPatch {
    RecordPatch::builder().op(Operation::Replace).key(key).value(value).sync_count(sync_count).build().unwrap()
}

fn remove(key: &str, sync_count: i64) -> RecordPatch {
    RecordPatch::builder().op(Operation::Remove).key(key).sync_count(sync_count).build().unwrap()
}

/// UTF-8 bytes a live record adds to `DataStorage`.
fn bytes(key: &str, value: &str) -> i64 {
    (key.len() + value.len()) as i64
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A pool that allows unauthenticated identities, with an `unauthenticated` role.
async fn pool_with_role(identity: &aws_sdk_cognitoidentity::Client, name: &str) -> String {
    let pool = identity
        .create_identity_pool()
        .identity_pool_name(name)
        .allow_unauthenticated_identities(true)
        .send()
        .await
        .unwrap()
        .identity_pool_id()
        .to_string();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/unauth");
    identity.set_identity_pool_roles().identity_pool_id(&pool).roles("unauthenticated", &role).send().await.unwrap();
    let roles = identity.get_identity_pool_roles().identity_pool_id(&pool).send().await.unwrap();
    assert_eq!(roles.roles().unwrap().get("unauthenticated"), Some(&role));
    pool
}

async fn new_identity(identity: &aws_sdk_cognitoidentity::Client, pool: &str) -> String {
    identity.get_id().identity_pool_id(pool).send().await.unwrap().identity_id().unwrap().to_string()
}

/// A new sync session of a dataset (`ListRecords`' `SyncSessionToken`).
async fn session(sync: &aws_sdk_cognitosync::Client, pool: &str, identity: &str, dataset: &str) -> String {
    let out =
        sync.list_records().identity_pool_id(pool).identity_id(identity).dataset_name(dataset).send().await.unwrap();
    out.sync_session_token().unwrap().to_string()
}

/// `DescribeIdentityPoolUsage`, checked against the pool's row of `ListIdentityPoolUsage`.
async fn usage(sync: &aws_sdk_cognitosync::Client, pool: &str) -> IdentityPoolUsage {
    let described = sync.describe_identity_pool_usage().identity_pool_id(pool).send().await.unwrap();
    let described = described.identity_pool_usage().unwrap().clone();
    let listed = sync.list_identity_pool_usage().max_results(60).send().await.unwrap();
    let row = listed
        .identity_pool_usages()
        .iter()
        .find(|u| u.identity_pool_id() == Some(pool))
        .unwrap_or_else(|| panic!("{pool} is not in ListIdentityPoolUsage: {listed:?}"));
    assert_eq!(row, &described, "ListIdentityPoolUsage and DescribeIdentityPoolUsage agree");
    described
}

/// A Cognito Sync client signing with an identity's temporary credentials.
fn sync_with(server: &RunningServer, credentials: Credentials) -> aws_sdk_cognitosync::Client {
    let conf = aws_sdk_cognitosync::Config::builder()
        .behavior_version(aws_sdk_cognitosync::config::BehaviorVersion::latest())
        .region(aws_sdk_cognitosync::config::Region::new(REGION))
        .credentials_provider(credentials)
        .endpoint_url(server.url())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_cognitosync::Client::from_conf(conf)
}

/// Keys and values to write.
type Pairs<'a> = &'a [(&'a str, &'a str)];

/// What the test believes is stored: (identity, dataset) → key → (value, sync count).
type Model = BTreeMap<(String, String), BTreeMap<String, (String, i64)>>;

fn model_bytes(model: &Model) -> i64 {
    model.values().flat_map(|records| records.iter().map(|(k, (v, _))| bytes(k, v))).sum()
}

#[tokio::test]
async fn the_sync_story() {
    let server = server().await;
    let identity = cognito_identity(&server, ACCOUNT, REGION);
    let sync = cognito_sync(&server, ACCOUNT, REGION);
    let pool = pool_with_role(&identity, "sync story").await;
    let fresh = usage(&sync, &pool).await;
    assert_eq!(fresh.data_storage(), Some(0));
    assert_eq!(fresh.sync_sessions_count(), None);

    let alice = new_identity(&identity, &pool).await;
    let bob = new_identity(&identity, &pool).await;
    assert_ne!(alice, bob);

    // Keys and values outside ASCII: DataStorage counts UTF-8 bytes, not characters.
    let plan: [(&str, &str, Pairs); 4] = [
        (&alice, "settings", &[("theme", "dark"), ("clé", "café"), ("lang", "fr")]),
        (&alice, "scores", &[("level1", "100"), ("level2", "250")]),
        (&bob, "settings", &[("theme", "日本語 light")]),
        (&bob, "notes", &[("n1", "🎉 party"), ("n2", "ελληνικά")]),
    ];
    let started = unix_now();
    let mut model = Model::new();
    let mut sessions = HashSet::new();
    for (who, dataset, records) in plan {
        let listed =
            sync.list_records().identity_pool_id(&pool).identity_id(who).dataset_name(dataset).send().await.unwrap();
        assert!(!listed.dataset_exists());
        assert!(listed.records().is_empty());
        assert_eq!(listed.dataset_sync_count(), Some(0));
        let token = listed.sync_session_token().unwrap().to_string();
        let written = sync
            .update_records()
            .identity_pool_id(&pool)
            .identity_id(who)
            .dataset_name(dataset)
            .sync_session_token(&token)
            .set_record_patches(Some(records.iter().map(|(k, v)| replace(k, v, 0)).collect()))
            .send()
            .await
            .unwrap();
        assert_eq!(written.records().len(), records.len());
        for r in written.records() {
            assert_eq!(r.sync_count(), Some(1), "the dataset's first change: {r:?}");
            let expected = records.iter().find(|(k, _)| Some(*k) == r.key()).unwrap().1;
            assert_eq!(r.value(), Some(expected));
            assert_eq!(r.last_modified_by(), Some(ACCOUNT), "developer credentials, no device");
        }
        let entry = model.entry((who.to_string(), dataset.to_string())).or_default();
        entry.extend(records.iter().map(|(k, v)| (k.to_string(), (v.to_string(), 1))));
        assert!(sessions.insert(token), "ListRecords hands out a new token each call");
    }

    // The same session may commit again: it is still one session.
    let token = session(&sync, &pool, &alice, "scores").await;
    for (patch, count) in [(replace("level1", "150", 1), 2), (replace("level2", "300", 1), 3)] {
        let out = sync
            .update_records()
            .identity_pool_id(&pool)
            .identity_id(&alice)
            .dataset_name("scores")
            .sync_session_token(&token)
            .record_patches(patch.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(out.records()[0].sync_count(), Some(count));
        let records = model.get_mut(&(alice.clone(), "scores".to_string())).unwrap();
        records.insert(patch.key().to_string(), (patch.value().unwrap().to_string(), count));
    }
    sessions.insert(token);
    // A new session in an existing dataset: a new key takes the dataset's next count.
    let token = session(&sync, &pool, &bob, "settings").await;
    let out = sync
        .update_records()
        .identity_pool_id(&pool)
        .identity_id(&bob)
        .dataset_name("settings")
        .sync_session_token(&token)
        .record_patches(replace("größe", "ünïcödé", 0))
        .send()
        .await
        .unwrap();
    assert_eq!(out.records()[0].sync_count(), Some(2));
    model.get_mut(&(bob.clone(), "settings".to_string())).unwrap().insert("größe".into(), ("ünïcödé".into(), 2));
    sessions.insert(token);

    let synced = usage(&sync, &pool).await;
    assert_eq!(synced.identity_pool_id(), Some(pool.as_str()));
    assert_eq!(synced.data_storage(), Some(model_bytes(&model)));
    assert_eq!(synced.sync_sessions_count(), Some(sessions.len() as i64));
    assert_eq!(sessions.len(), 6);
    let modified = synced.last_modified_date().unwrap().secs();
    assert!(modified >= started - 1 && modified <= unix_now() + 1, "LastModifiedDate {modified}, started {started}");

    // Each dataset reports its own share, and ListRecords answers what the model holds.
    for ((who, dataset), records) in &model {
        let d = sync.describe_dataset().identity_pool_id(&pool).identity_id(who).dataset_name(dataset).send().await;
        let d = d.unwrap();
        let d = d.dataset().unwrap();
        assert_eq!(d.num_records(), Some(records.len() as i64));
        assert_eq!(d.data_storage(), Some(records.iter().map(|(k, (v, _))| bytes(k, v)).sum::<i64>()));
        let listed =
            sync.list_records().identity_pool_id(&pool).identity_id(who).dataset_name(dataset).send().await.unwrap();
        let got: BTreeMap<String, (String, i64)> = listed
            .records()
            .iter()
            .map(|r| (r.key().unwrap().to_string(), (r.value().unwrap().to_string(), r.sync_count().unwrap())))
            .collect();
        assert_eq!(&got, records, "{who} {dataset}");
        let highest = records.values().map(|(_, c)| *c).max().unwrap();
        assert_eq!(listed.dataset_sync_count(), Some(highest));
    }
    let alice_usage = sync.describe_identity_usage().identity_pool_id(&pool).identity_id(&alice).send().await;
    let alice_usage = alice_usage.unwrap();
    let alice_usage = alice_usage.identity_usage().unwrap();
    assert_eq!(alice_usage.dataset_count(), 2);
    let alice_bytes: i64 = model
        .iter()
        .filter(|((who, _), _)| *who == alice)
        .flat_map(|(_, records)| records.iter().map(|(k, (v, _))| bytes(k, v)))
        .sum();
    assert_eq!(alice_usage.data_storage(), Some(alice_bytes));

    // A stale SyncCount: refused, and nothing of the call is stored (not even the new key,
    // nor the session).
    let token = session(&sync, &pool, &alice, "scores").await;
    let err = sync
        .update_records()
        .identity_pool_id(&pool)
        .identity_id(&alice)
        .dataset_name("scores")
        .sync_session_token(&token)
        .record_patches(replace("level3", "999", 0))
        .record_patches(replace("level1", "0", 1))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_conflict_exception(), "{err:?}");
    assert_eq!(err.code(), Some("ResourceConflictException"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 409);
    assert_eq!(err.message(), Some("Current SyncCount for: level1 is: 2 not: 1"));
    assert_eq!(usage(&sync, &pool).await, synced, "a refused UpdateRecords changes no counter");
    let listed =
        sync.list_records().identity_pool_id(&pool).identity_id(&alice).dataset_name("scores").send().await.unwrap();
    assert_eq!(listed.dataset_sync_count(), Some(3));
    assert_eq!(listed.records().len(), 2);
    assert!(listed.records().iter().all(|r| r.key() != Some("level3")));
    let level1 = listed.records().iter().find(|r| r.key() == Some("level1")).unwrap();
    assert_eq!((level1.value(), level1.sync_count()), (Some("150"), Some(2)));

    // Removing a record takes its bytes off; a device that last synced at count 1 learns
    // of the removal as a record without a value.
    let removed_key = "clé";
    let settings = (alice.clone(), "settings".to_string());
    let (removed_value, removed_count) = model[&settings][removed_key].clone();
    let token = session(&sync, &pool, &alice, "settings").await;
    let out = sync
        .update_records()
        .identity_pool_id(&pool)
        .identity_id(&alice)
        .dataset_name("settings")
        .sync_session_token(&token)
        .record_patches(remove(removed_key, removed_count))
        .send()
        .await
        .unwrap();
    assert_eq!(out.records().len(), 1);
    assert_eq!(out.records()[0].key(), Some(removed_key));
    assert_eq!(out.records()[0].value(), None);
    assert_eq!(out.records()[0].sync_count(), Some(2));
    model.get_mut(&settings).unwrap().remove(removed_key);
    sessions.insert(token);
    let after_remove = usage(&sync, &pool).await;
    assert_eq!(after_remove.data_storage(), Some(synced.data_storage().unwrap() - bytes(removed_key, &removed_value)));
    assert_eq!(after_remove.data_storage(), Some(model_bytes(&model)));
    assert_eq!(after_remove.sync_sessions_count(), Some(sessions.len() as i64));
    let since = sync
        .list_records()
        .identity_pool_id(&pool)
        .identity_id(&alice)
        .dataset_name("settings")
        .last_sync_count(1)
        .send()
        .await
        .unwrap();
    assert_eq!(since.count(), 1);
    assert_eq!(since.records()[0].key(), Some(removed_key));
    assert_eq!(since.records()[0].value(), None, "a removed record is answered without a value");
    assert_eq!(since.records()[0].sync_count(), Some(2));
    assert!(!since.dataset_deleted_after_requested_sync_count());
    let settings_now = sync.describe_dataset().identity_pool_id(&pool).identity_id(&alice).dataset_name("settings");
    let settings_now = settings_now.send().await.unwrap();
    assert_eq!(settings_now.dataset().unwrap().num_records(), Some(2), "tombstones are not records");

    // Deleting a dataset takes all its bytes off, and no session is counted.
    let notes = (bob.clone(), "notes".to_string());
    let notes_bytes: i64 = model[&notes].iter().map(|(k, (v, _))| bytes(k, v)).sum();
    let deleted =
        sync.delete_dataset().identity_pool_id(&pool).identity_id(&bob).dataset_name("notes").send().await.unwrap();
    assert_eq!(deleted.dataset().unwrap().data_storage(), Some(notes_bytes));
    model.remove(&notes);
    let after_delete = usage(&sync, &pool).await;
    assert_eq!(after_delete.data_storage(), Some(after_remove.data_storage().unwrap() - notes_bytes));
    assert_eq!(after_delete.data_storage(), Some(model_bytes(&model)));
    assert_eq!(after_delete.sync_sessions_count(), Some(sessions.len() as i64));
    assert!(after_delete.last_modified_date().unwrap() >= after_remove.last_modified_date().unwrap());
    let err = sync.describe_dataset().identity_pool_id(&pool).identity_id(&bob).dataset_name("notes").send().await;
    let err = err.unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception(), "{err:?}");
    let gone = sync
        .list_records()
        .identity_pool_id(&pool)
        .identity_id(&bob)
        .dataset_name("notes")
        .last_sync_count(1)
        .send()
        .await
        .unwrap();
    assert!(!gone.dataset_exists());
    assert!(gone.records().is_empty());
    assert!(gone.dataset_deleted_after_requested_sync_count());
    let bob_sets = sync.list_datasets().identity_pool_id(&pool).identity_id(&bob).send().await.unwrap();
    let names: Vec<_> = bob_sets.datasets().iter().filter_map(|d| d.dataset_name()).collect();
    assert_eq!(names, ["settings"]);
    let bob_usage = sync.describe_identity_usage().identity_pool_id(&pool).identity_id(&bob).send().await.unwrap();
    let bob_usage = bob_usage.identity_usage().unwrap();
    assert_eq!(bob_usage.dataset_count(), 1);
    assert_eq!(
        bob_usage.data_storage(),
        Some(model[&(bob.clone(), "settings".to_string())].iter().map(|(k, (v, _))| bytes(k, v)).sum::<i64>())
    );
}

#[tokio::test]
async fn identity_credentials() {
    let server = server().await;
    let identity = cognito_identity(&server, ACCOUNT, REGION);
    let developer = cognito_sync(&server, ACCOUNT, REGION);
    let pool = pool_with_role(&identity, "credentials").await;
    let alice = new_identity(&identity, &pool).await;
    let bob = new_identity(&identity, &pool).await;

    let issued = identity.get_credentials_for_identity().identity_id(&alice).send().await.unwrap();
    assert_eq!(issued.identity_id(), Some(alice.as_str()));
    let c = issued.credentials().unwrap();
    let access = c.access_key_id().unwrap();
    assert!(access.starts_with("ASIA"), "{access}");
    let secret = c.secret_key().unwrap();
    let token = c.session_token().unwrap();
    assert!(!secret.is_empty() && !token.is_empty());
    let expires_in = c.expiration().unwrap().secs() - unix_now();
    assert!((3600 - 60..=3600 + 5).contains(&expires_in), "expires in {expires_in} s");
    let as_alice =
        sync_with(&server, Credentials::new(access, secret, Some(token.to_string()), None, "reservoir-tests"));

    // Its own data: the whole data path.
    let listed = as_alice.list_records().identity_pool_id(&pool).identity_id(&alice).dataset_name("prefs").send().await;
    let listed = listed.unwrap();
    let written = as_alice
        .update_records()
        .identity_pool_id(&pool)
        .identity_id(&alice)
        .dataset_name("prefs")
        .sync_session_token(listed.sync_session_token().unwrap())
        .record_patches(replace("color", "blue", 0))
        .send()
        .await
        .unwrap();
    assert_eq!(written.records()[0].sync_count(), Some(1));
    assert_eq!(written.records()[0].last_modified_by(), Some(alice.as_str()), "changed by the identity itself");
    let datasets = as_alice.list_datasets().identity_pool_id(&pool).identity_id(&alice).send().await.unwrap();
    assert_eq!(datasets.count(), 1);
    assert_eq!(datasets.datasets()[0].dataset_name(), Some("prefs"));
    let described =
        as_alice.describe_dataset().identity_pool_id(&pool).identity_id(&alice).dataset_name("prefs").send().await;
    let described = described.unwrap();
    let d = described.dataset().unwrap();
    assert_eq!((d.num_records(), d.data_storage()), (Some(1), Some(bytes("color", "blue"))));
    assert_eq!(d.identity_id(), Some(alice.as_str()));
    let again = as_alice.list_records().identity_pool_id(&pool).identity_id(&alice).dataset_name("prefs").send().await;
    let again = again.unwrap();
    assert_eq!(again.records()[0].value(), Some("blue"));
    assert_ne!(again.sync_session_token(), listed.sync_session_token());

    // Another identity's data: refused, whatever the operation.
    let forbidden = |code: Option<&str>, status: u16, what: &str| {
        assert_eq!((code, status), (Some("NotAuthorizedException"), 403), "{what}");
    };
    let err = as_alice.list_records().identity_pool_id(&pool).identity_id(&bob).dataset_name("prefs").send().await;
    let err = err.unwrap_err();
    assert!(err.as_service_error().unwrap().is_not_authorized_exception(), "{err:?}");
    forbidden(err.code(), err.raw_response().unwrap().status().as_u16(), "ListRecords of another identity");
    let bobs_token = session(&developer, &pool, &bob, "prefs").await;
    let err = as_alice
        .update_records()
        .identity_pool_id(&pool)
        .identity_id(&bob)
        .dataset_name("prefs")
        .sync_session_token(&bobs_token)
        .record_patches(replace("color", "red", 0))
        .send()
        .await
        .unwrap_err();
    forbidden(err.code(), err.raw_response().unwrap().status().as_u16(), "UpdateRecords of another identity");
    let err = as_alice.list_datasets().identity_pool_id(&pool).identity_id(&bob).send().await.unwrap_err();
    forbidden(err.code(), err.raw_response().unwrap().status().as_u16(), "ListDatasets of another identity");
    let err = as_alice.describe_dataset().identity_pool_id(&pool).identity_id(&bob).dataset_name("prefs").send().await;
    let err = err.unwrap_err();
    forbidden(err.code(), err.raw_response().unwrap().status().as_u16(), "DescribeDataset of another identity");

    // The pool's usage is the developer's.
    let err = as_alice.describe_identity_pool_usage().identity_pool_id(&pool).send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_not_authorized_exception(), "{err:?}");
    forbidden(err.code(), err.raw_response().unwrap().status().as_u16(), "DescribeIdentityPoolUsage");
    let err = as_alice.list_identity_pool_usage().max_results(10).send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_not_authorized_exception(), "{err:?}");
    forbidden(err.code(), err.raw_response().unwrap().status().as_u16(), "ListIdentityPoolUsage");

    // Nothing of the refused calls was stored; the developer sees Alice's record only.
    let u = usage(&developer, &pool).await;
    assert_eq!(u.data_storage(), Some(bytes("color", "blue")));
    assert_eq!(u.sync_sessions_count(), Some(1));
    let bobs = developer.list_datasets().identity_pool_id(&pool).identity_id(&bob).send().await.unwrap();
    assert_eq!(bobs.count(), 0);
}

#[tokio::test]
async fn errors() {
    let server = server().await;
    let identity = cognito_identity(&server, ACCOUNT, REGION);
    let sync = cognito_sync(&server, ACCOUNT, REGION);
    let pool = pool_with_role(&identity, "errors").await;
    let alice = new_identity(&identity, &pool).await;
    let bob = new_identity(&identity, &pool).await;

    let err = sync
        .describe_identity_pool_usage()
        .identity_pool_id("us-east-1:00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception(), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);

    // A token that is none of the server's, one of another dataset, one of another identity.
    let other_dataset = session(&sync, &pool, &alice, "other").await;
    let other_identity = session(&sync, &pool, &bob, "data").await;
    for (token, what) in [
        ("not-a-session-token", "garbage"),
        (other_dataset.as_str(), "another dataset's"),
        (other_identity.as_str(), "another identity's"),
    ] {
        let err = sync
            .update_records()
            .identity_pool_id(&pool)
            .identity_id(&alice)
            .dataset_name("data")
            .sync_session_token(token)
            .record_patches(replace("k", "v", 0))
            .send()
            .await
            .unwrap_err();
        assert!(err.as_service_error().unwrap().is_invalid_parameter_exception(), "{what}: {err:?}");
        assert_eq!(err.raw_response().unwrap().status().as_u16(), 400, "{what}");
    }
    let u = usage(&sync, &pool).await;
    assert_eq!((u.data_storage(), u.sync_sessions_count()), (Some(0), None), "nothing committed");

    let err = sync.describe_dataset().identity_pool_id(&pool).identity_id(&alice).dataset_name("missing").send().await;
    let err = err.unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception(), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);

    // The dataset's own session token is accepted: the refusals above were the tokens'.
    let token = session(&sync, &pool, &alice, "data").await;
    sync.update_records()
        .identity_pool_id(&pool)
        .identity_id(&alice)
        .dataset_name("data")
        .sync_session_token(&token)
        .record_patches(replace("k", "v", 0))
        .send()
        .await
        .unwrap();
}
