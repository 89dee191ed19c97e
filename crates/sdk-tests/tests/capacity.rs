//! aws-sdk-ec2 and aws-sdk-ram run the capacity reservation story: create → launch 3 of 5
//! → usage shows 2 available → share with a second account → its launch consumes the
//! reservation → usage rows for both accounts → terminate → usage back → cancel →
//! launches refused → a limited reservation expires when the server clock moves.

mod common;

use aws_sdk_ec2::primitives::DateTime;
use aws_sdk_ec2::types::{
    CapacityReservationInstancePlatform, CapacityReservationSpecification, CapacityReservationTarget, EndDateType,
    InstanceMatchCriteria, InstanceType, Placement,
};
use common::{advance_clock, code_and_status, ec2, ram, server, server_now};

const OWNER: &str = "000000000000";
const OTHER: &str = "111111111111";
const ZONE: &str = "us-east-1a";

async fn launch(client: &aws_sdk_ec2::Client, n: i32, cr: &str) -> Result<Vec<String>, (String, u16)> {
    client
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .instance_type(InstanceType::M5Large)
        .min_count(n)
        .max_count(n)
        .placement(Placement::builder().availability_zone(ZONE).build())
        .capacity_reservation_specification(
            CapacityReservationSpecification::builder()
                .capacity_reservation_target(CapacityReservationTarget::builder().capacity_reservation_id(cr).build())
                .build(),
        )
        .send()
        .await
        .map(|r| {
            r.instances()
                .iter()
                .map(|i| {
                    assert_eq!(i.capacity_reservation_id(), Some(cr));
                    i.instance_id().unwrap().to_string()
                })
                .collect()
        })
        .map_err(|e| code_and_status(&e))
}

/// (available, [(account, used)]) of a reservation, read by its owner.
async fn usage(client: &aws_sdk_ec2::Client, cr: &str) -> (i32, Vec<(String, i32)>) {
    let u = client.get_capacity_reservation_usage().capacity_reservation_id(cr).send().await.unwrap();
    let mut rows: Vec<(String, i32)> = u
        .instance_usages()
        .iter()
        .map(|r| (r.account_id().unwrap().to_string(), r.used_instance_count().unwrap()))
        .collect();
    rows.sort();
    (u.available_instance_count().unwrap(), rows)
}

async fn create(client: &aws_sdk_ec2::Client, count: i32, end: Option<DateTime>) -> String {
    let mut req = client
        .create_capacity_reservation()
        .instance_type("m5.large")
        .instance_platform(CapacityReservationInstancePlatform::LinuxUnix)
        .availability_zone(ZONE)
        .instance_count(count)
        .instance_match_criteria(InstanceMatchCriteria::Targeted);
    if let Some(end) = end {
        req = req.end_date_type(EndDateType::Limited).end_date(end);
    }
    req.send().await.unwrap().capacity_reservation.unwrap().capacity_reservation_id.unwrap()
}

#[tokio::test]
async fn capacity_reservation_story() {
    let server = server().await;
    let (owner, other) = (ec2(&server, "AKIDEXAMPLE", "us-east-1"), ec2(&server, OTHER, "us-east-1"));
    let cr = create(&owner, 5, None).await;

    let mine = launch(&owner, 3, &cr).await.unwrap();
    assert_eq!(usage(&owner, &cr).await, (2, vec![(OWNER.to_string(), 3)]));
    assert_eq!(launch(&other, 1, &cr).await.unwrap_err().0, "InvalidCapacityReservationId.NotFound");

    // Share through RAM; the other account accepts the invitation.
    let arn = format!("arn:aws:ec2:us-east-1:{OWNER}:capacity-reservation/{cr}");
    let share = ram(&server, "AKIDEXAMPLE", "us-east-1")
        .create_resource_share()
        .name("capacity")
        .resource_arns(&arn)
        .principals(OTHER)
        .send()
        .await
        .unwrap()
        .resource_share
        .unwrap()
        .resource_share_arn
        .unwrap();
    let other_ram = ram(&server, OTHER, "us-east-1");
    let invitations = other_ram.get_resource_share_invitations().resource_share_arns(&share).send().await.unwrap();
    for inv in invitations.resource_share_invitations() {
        other_ram
            .accept_resource_share_invitation()
            .resource_share_invitation_arn(inv.resource_share_invitation_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    let seen = other.describe_capacity_reservations().capacity_reservation_ids(&cr).send().await.unwrap();
    assert_eq!(seen.capacity_reservations()[0].owner_id(), Some(OWNER));
    let theirs = launch(&other, 1, &cr).await.unwrap();
    assert_eq!(usage(&owner, &cr).await, (1, vec![(OWNER.to_string(), 3), (OTHER.to_string(), 1)]));
    assert_eq!(launch(&owner, 2, &cr).await.unwrap_err(), ("ReservationCapacityExceeded".to_string(), 400));

    owner.terminate_instances().set_instance_ids(Some(mine)).send().await.unwrap();
    other.terminate_instances().set_instance_ids(Some(theirs)).send().await.unwrap();
    assert_eq!(usage(&owner, &cr).await, (5, vec![]));

    owner.cancel_capacity_reservation().capacity_reservation_id(&cr).send().await.unwrap();
    assert_eq!(launch(&owner, 1, &cr).await.unwrap_err(), ("ReservationCapacityExceeded".to_string(), 400));

    // A limited reservation ends when the server clock passes its end date.
    let now = server_now(&server).await;
    let limited = create(&owner, 2, Some(DateTime::from_millis(now + 3_600_000))).await;
    launch(&owner, 1, &limited).await.unwrap();
    advance_clock(&server, 3_601).await;
    let state = owner.describe_capacity_reservations().capacity_reservation_ids(&limited).send().await.unwrap();
    assert_eq!(state.capacity_reservations()[0].state().map(|s| s.as_str()), Some("expired"));
    assert_eq!(launch(&owner, 1, &limited).await.unwrap_err().0, "ReservationCapacityExceeded");
}
