//! aws-sdk-cognitoidentity (awsJson1.1) and aws-sdk-cognitosync (restJson1) against Reservoir.

mod common;

use std::collections::{HashMap, HashSet};

use aws_sdk_cognitoidentity::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentity::types::CognitoIdentityProvider;
use common::{cognito_identity, cognito_sync, server};

#[tokio::test]
async fn identity_pool_lifecycle() {
    let server = server().await;
    let client = cognito_identity(&server, "123456789012", "us-east-1");

    let created = client
        .create_identity_pool()
        .identity_pool_name("sdk pool")
        .allow_unauthenticated_identities(false)
        .supported_login_providers("graph.facebook.com", "123456")
        .developer_provider_name("login.example")
        .cognito_identity_providers(
            CognitoIdentityProvider::builder()
                .provider_name("cognito-idp.us-east-1.amazonaws.com/us-east-1_abc")
                .client_id("client1")
                .server_side_token_check(true)
                .build(),
        )
        .identity_pool_tags("team", "net")
        .send()
        .await
        .unwrap();
    let id = created.identity_pool_id().to_string();
    assert!(id.starts_with("us-east-1:") && id.len() == 46, "{id}");
    assert_eq!(created.identity_pool_name(), "sdk pool");
    assert_eq!(created.developer_provider_name(), Some("login.example"));
    assert_eq!(created.identity_pool_tags().unwrap().get("team").map(String::as_str), Some("net"));

    let described = client.describe_identity_pool().identity_pool_id(&id).send().await.unwrap();
    assert_eq!(
        described.supported_login_providers().unwrap().get("graph.facebook.com").map(String::as_str),
        Some("123456")
    );
    assert_eq!(described.cognito_identity_providers()[0].client_id(), Some("client1"));

    // Update replaces the configuration: providers not given are gone.
    let updated = client
        .update_identity_pool()
        .identity_pool_id(&id)
        .identity_pool_name("renamed")
        .allow_unauthenticated_identities(true)
        .developer_provider_name("login.example")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.identity_pool_name(), "renamed");
    assert!(updated.supported_login_providers().is_none());
    assert!(updated.cognito_identity_providers().is_empty());

    // The developer provider name cannot change once set.
    let err = client
        .update_identity_pool()
        .identity_pool_id(&id)
        .identity_pool_name("renamed")
        .allow_unauthenticated_identities(true)
        .developer_provider_name("other.example")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception(), "{err:?}");

    client.delete_identity_pool().identity_pool_id(&id).send().await.unwrap();
    let err = client.describe_identity_pool().identity_pool_id(&id).send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception(), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
}

#[tokio::test]
async fn identity_pool_validation_and_pagination() {
    let server = server().await;
    let client = cognito_identity(&server, "AKIDEXAMPLE", "us-east-1");

    let err = client
        .create_identity_pool()
        .identity_pool_name("bad!")
        .allow_unauthenticated_identities(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(err.message().unwrap().contains("at 'identityPoolName'"), "{err:?}");
    let err = client.list_identity_pools().max_results(61).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = client.describe_identity_pool().identity_pool_id("nope").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));

    let mut ids = HashSet::new();
    for i in 0..5 {
        let p = client
            .create_identity_pool()
            .identity_pool_name(format!("pool{i}"))
            .allow_unauthenticated_identities(true)
            .send()
            .await
            .unwrap();
        ids.insert(p.identity_pool_id().to_string());
    }
    let pages: Vec<_> = client
        .list_identity_pools()
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let listed: HashSet<String> = pages
        .iter()
        .flat_map(|p| p.identity_pools().iter().map(|d| d.identity_pool_id().unwrap().to_string()))
        .collect();
    assert_eq!(listed, ids);
    let err = client.list_identity_pools().max_results(2).next_token("garbage").send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception(), "{err:?}");

    // Another account, or another region, sees none of them.
    let other = cognito_identity(&server, "999999999999", "us-east-1");
    assert!(other.list_identity_pools().max_results(10).send().await.unwrap().identity_pools().is_empty());
    let west = cognito_identity(&server, "AKIDEXAMPLE", "us-west-2");
    assert!(west.list_identity_pools().max_results(10).send().await.unwrap().identity_pools().is_empty());
}

#[tokio::test]
async fn get_id_is_unsigned_and_maps_logins() {
    let server = server().await;
    let client = cognito_identity(&server, "AKIDEXAMPLE", "us-east-1");
    let open = client
        .create_identity_pool()
        .identity_pool_name("open")
        .allow_unauthenticated_identities(true)
        .supported_login_providers("graph.facebook.com", "app")
        .send()
        .await
        .unwrap();
    let pool = open.identity_pool_id();
    let a = client.get_id().identity_pool_id(pool).send().await.unwrap();
    let b = client.get_id().identity_pool_id(pool).send().await.unwrap();
    assert_ne!(a.identity_id(), b.identity_id(), "a new unauthenticated identity per call");
    assert!(a.identity_id().unwrap().starts_with("us-east-1:"));

    let logins = HashMap::from([("graph.facebook.com".to_string(), "token-1".to_string())]);
    let c = client.get_id().identity_pool_id(pool).set_logins(Some(logins.clone())).send().await.unwrap();
    let d = client.get_id().identity_pool_id(pool).set_logins(Some(logins)).send().await.unwrap();
    assert_eq!(c.identity_id(), d.identity_id(), "the same login maps to the same identity");

    let closed = client
        .create_identity_pool()
        .identity_pool_name("closed")
        .allow_unauthenticated_identities(false)
        .send()
        .await
        .unwrap();
    let err = client.get_id().identity_pool_id(closed.identity_pool_id()).send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_not_authorized_exception(), "{err:?}");
    let err =
        client.get_id().identity_pool_id("us-east-1:00000000-0000-4000-8000-000000000000").send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn cognito_sync_sees_identity_pools() {
    let server = server().await;
    let identity = cognito_identity(&server, "AKIDEXAMPLE", "us-east-1");
    let sync = cognito_sync(&server, "AKIDEXAMPLE", "us-east-1");
    let pool = identity
        .create_identity_pool()
        .identity_pool_name("synced")
        .allow_unauthenticated_identities(true)
        .send()
        .await
        .unwrap();
    let id = pool.identity_pool_id();

    let usage = sync.describe_identity_pool_usage().identity_pool_id(id).send().await.unwrap();
    let usage = usage.identity_pool_usage().unwrap();
    assert_eq!(usage.identity_pool_id(), Some(id));
    assert_eq!(usage.data_storage(), Some(0));
    assert_eq!(usage.sync_sessions_count(), None, "AWS leaves it null for a pool never synced");
    assert!(usage.last_modified_date().is_some());

    let list = sync.list_identity_pool_usage().max_results(10).send().await.unwrap();
    assert_eq!(list.count(), 1);
    assert_eq!(list.identity_pool_usages()[0].identity_pool_id(), Some(id));

    let err = sync
        .describe_identity_pool_usage()
        .identity_pool_id("us-east-1:00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception(), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
}
