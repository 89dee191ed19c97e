//! One arm per served EC2 operation. The match is exhaustive over the generated
//! `Request` enum, so a newly served operation does not compile until it has a handler.

use reservoir_wire::ec2::{XmlEncodeDyn, response_body};
use reservoir_wire::ec2_api::Request;

use super::shared::Call;
use super::{regions, tags, vpcs};
use crate::error::ApiResult;

pub async fn dispatch(call: Call, request: Request) -> ApiResult<String> {
    let id = call.cx.request_id.clone();
    let op = call.operation;
    let ok = |out: &dyn XmlEncodeDyn| response_body(op, &id, Some(out));
    let done = || response_body(op, &id, None);
    Ok(match request {
        Request::DescribeRegions(input) => ok(&regions::describe_regions(&call, input).await?),
        Request::DescribeAvailabilityZones(input) => ok(&regions::describe_availability_zones(&call, input).await?),
        Request::CreateTags(input) => {
            tags::create_tags(&call, input).await?;
            done()
        }
        Request::DeleteTags(input) => {
            tags::delete_tags(&call, input).await?;
            done()
        }
        Request::DescribeTags(input) => ok(&tags::describe_tags(&call, input).await?),
        Request::CreateVpc(input) => ok(&vpcs::create_vpc(&call, input).await?),
        Request::DescribeVpcs(input) => ok(&vpcs::describe_vpcs(&call, input).await?),
        Request::DeleteVpc(input) => {
            vpcs::delete_vpc(&call, input).await?;
            done()
        }
    })
}
