//! IPAM monitoring: `GetIpamResourceCidrs`, `ModifyIpamResourceCidr`.

use reservoir_wire::ec2_api as api;

use super::shared::Call;
use crate::error::{ApiError, ApiResult};

pub async fn get_ipam_resource_cidrs(
    call: &Call,
    _input: api::GetIpamResourceCidrsRequest,
) -> ApiResult<api::GetIpamResourceCidrsResult> {
    Err(ApiError::ec2_unsupported_parameter(call.operation, "IpamScopeId"))
}

pub async fn modify_ipam_resource_cidr(
    call: &Call,
    _input: api::ModifyIpamResourceCidrRequest,
) -> ApiResult<api::ModifyIpamResourceCidrResult> {
    Err(ApiError::ec2_unsupported_parameter(call.operation, "ResourceId"))
}
