//! VPC endpoints, the catalogue of AWS endpoint services, and AWS-managed prefix lists.
//!
//! What Reservoir models (AWS PrivateLink Guide; EC2 API reference `CreateVpcEndpoint`,
//! `DescribeVpcEndpoints`, `ModifyVpcEndpoint`, `DeleteVpcEndpoints`,
//! `DescribeVpcEndpointServices`, `DescribePrefixLists`):
//! * the *endpoint services* Amazon offers in every region, `com.amazonaws.<region>.<service>`:
//!   S3 and DynamoDB as gateway services (S3 also as an interface service) and the common
//!   interface services ([`CATALOGUE`]). Each is offered in every Availability Zone of the
//!   region (not in Local Zones), owned by `amazon`, with no acceptance. A service's id
//!   (`vpce-svc-…`) is derived from its region, name and type, so it is the same on every
//!   server and every day, as AWS's are;
//! * the *AWS-managed prefix lists* of the gateway services (`com.amazonaws.<region>.s3`,
//!   `…dynamodb`, `…s3express`), with `pl-` ids derived from region and name, and the
//!   published ranges of the service ([`prefix_lists`]);
//! * *gateway endpoints* (route tables; a route to the service's prefix list in each) and
//!   *interface endpoints* (one subnet per Availability Zone, security groups, private
//!   DNS, DNS entries); a policy (the full-access default when none is given) must be a
//!   JSON document;
//! * an endpoint is `available` as soon as it is made.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::account::AccountId;
use crate::filter::{FilterSchema, Filterable};
use crate::network::NetError;
use crate::region::RegionInfo;
use crate::time::Timestamp;

/// The type of an endpoint service and of an endpoint (`VpcEndpointType` /
/// `ServiceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EndpointType {
    Gateway,
    Interface,
}

impl EndpointType {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::Gateway => "Gateway",
            EndpointType::Interface => "Interface",
        }
    }
}

/// One service of the catalogue: its short name (`ec2`, `ecr.api`), its type, the
/// private DNS name it offers (`{region}` stands for the region), whether it also
/// serves IPv6 (dualstack), and whether it takes an endpoint policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSpec {
    pub service: &'static str,
    pub kind: EndpointType,
    pub private_dns: Option<&'static str>,
    pub ipv6: bool,
    pub policy: bool,
}

const fn gateway(service: &'static str) -> ServiceSpec {
    ServiceSpec { service, kind: EndpointType::Gateway, private_dns: None, ipv6: false, policy: true }
}

const fn interface(service: &'static str, private_dns: &'static str, ipv6: bool) -> ServiceSpec {
    ServiceSpec { service, kind: EndpointType::Interface, private_dns: Some(private_dns), ipv6, policy: true }
}

/// The endpoint services Amazon offers in each region, in name order (gateway before
/// interface for a name that has both), as `DescribeVpcEndpointServices` lists them.
pub const CATALOGUE: &[ServiceSpec] = &[
    interface("access-analyzer", "access-analyzer.{region}.amazonaws.com", false),
    interface("acm-pca", "acm-pca.{region}.amazonaws.com", false),
    interface("application-autoscaling", "application-autoscaling.{region}.amazonaws.com", false),
    interface("athena", "athena.{region}.amazonaws.com", true),
    interface("autoscaling", "autoscaling.{region}.amazonaws.com", false),
    interface("backup", "backup.{region}.amazonaws.com", false),
    interface("bedrock", "bedrock.{region}.amazonaws.com", false),
    interface("bedrock-runtime", "bedrock-runtime.{region}.amazonaws.com", false),
    interface("cloudformation", "cloudformation.{region}.amazonaws.com", false),
    interface("cloudtrail", "cloudtrail.{region}.amazonaws.com", false),
    interface("codebuild", "codebuild.{region}.amazonaws.com", false),
    interface("codecommit", "codecommit.{region}.amazonaws.com", false),
    interface("codepipeline", "codepipeline.{region}.amazonaws.com", false),
    interface("cognito-identity", "cognito-identity.{region}.amazonaws.com", false),
    interface("cognito-idp", "cognito-idp.{region}.amazonaws.com", false),
    interface("config", "config.{region}.amazonaws.com", false),
    gateway("dynamodb"),
    interface("ebs", "ebs.{region}.amazonaws.com", false),
    interface("ec2", "ec2.{region}.amazonaws.com", true),
    interface("ec2messages", "ec2messages.{region}.amazonaws.com", false),
    interface("ecr.api", "api.ecr.{region}.amazonaws.com", true),
    interface("ecr.dkr", "*.dkr.ecr.{region}.amazonaws.com", true),
    interface("ecs", "ecs.{region}.amazonaws.com", false),
    interface("ecs-agent", "ecs-a.{region}.amazonaws.com", false),
    interface("ecs-telemetry", "ecs-t.{region}.amazonaws.com", false),
    interface("elasticache", "elasticache.{region}.amazonaws.com", false),
    interface("elasticfilesystem", "elasticfilesystem.{region}.amazonaws.com", true),
    interface("elasticloadbalancing", "elasticloadbalancing.{region}.amazonaws.com", true),
    interface("email-smtp", "email-smtp.{region}.amazonaws.com", false),
    interface("events", "events.{region}.amazonaws.com", true),
    interface("execute-api", "*.execute-api.{region}.amazonaws.com", true),
    interface("glue", "glue.{region}.amazonaws.com", false),
    interface("kinesis-firehose", "firehose.{region}.amazonaws.com", false),
    interface("kinesis-streams", "kinesis.{region}.amazonaws.com", true),
    interface("kms", "kms.{region}.amazonaws.com", true),
    interface("lambda", "lambda.{region}.amazonaws.com", true),
    interface("logs", "logs.{region}.amazonaws.com", true),
    interface("monitoring", "monitoring.{region}.amazonaws.com", true),
    interface("ram", "ram.{region}.amazonaws.com", false),
    interface("rds", "rds.{region}.amazonaws.com", false),
    interface("redshift", "redshift.{region}.amazonaws.com", false),
    gateway("s3"),
    interface("s3", "*.s3.{region}.amazonaws.com", true),
    interface("sagemaker.api", "api.sagemaker.{region}.amazonaws.com", false),
    interface("sagemaker.runtime", "runtime.sagemaker.{region}.amazonaws.com", false),
    interface("secretsmanager", "secretsmanager.{region}.amazonaws.com", true),
    interface("servicecatalog", "servicecatalog.{region}.amazonaws.com", false),
    interface("sns", "sns.{region}.amazonaws.com", true),
    interface("sqs", "sqs.{region}.amazonaws.com", true),
    interface("ssm", "ssm.{region}.amazonaws.com", true),
    interface("ssmmessages", "ssmmessages.{region}.amazonaws.com", true),
    interface("states", "states.{region}.amazonaws.com", false),
    interface("sts", "sts.{region}.amazonaws.com", true),
    interface("xray", "xray.{region}.amazonaws.com", false),
];

/// An endpoint service as a region offers it (`ServiceDetail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointService {
    /// `com.amazonaws.<region>.<service>`.
    pub name: String,
    /// `vpce-svc-` + 17 hex, derived from region, name and type.
    pub id: String,
    pub kind: EndpointType,
    pub region: String,
    /// (zone name, zone id) of every Availability Zone of the region.
    pub zones: Vec<(String, String)>,
    /// Gateway: `<service>.<region>.amazonaws.com`; interface: `<service>.<region>.vpce.amazonaws.com`.
    pub base_dns_name: String,
    pub private_dns_name: Option<String>,
    pub policy_supported: bool,
    /// `ipv4`, and `ipv6` for dualstack services.
    pub ip_address_types: Vec<&'static str>,
}

impl EndpointService {
    /// Whether an endpoint of this service may use `ip_type` (`ipv4`, `dualstack`, `ipv6`).
    pub fn serves(&self, ip_type: IpAddressType) -> bool {
        match ip_type {
            IpAddressType::Ipv4 => true,
            IpAddressType::Dualstack | IpAddressType::Ipv6 => self.ip_address_types.contains(&"ipv6"),
        }
    }
}

/// The owner AWS shows for its own services.
pub const AMAZON_OWNER: &str = "amazon";

/// `com.amazonaws.<region>.<service>`.
pub fn service_name(region: &str, service: &str) -> String {
    format!("com.amazonaws.{region}.{service}")
}

fn digest(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The service id of a catalogue service: `vpce-svc-0` + 16 hex of a digest of region,
/// name and type (stable across servers and restarts).
pub fn service_id(region: &str, service: &str, kind: EndpointType) -> String {
    let d = digest(&["vpce-svc", region, service, kind.as_str()]);
    format!("vpce-svc-0{}", hex(&d[..8]))
}

/// The region's Availability Zones an endpoint service is offered in (Local and
/// Wavelength Zones have no endpoint services).
pub fn service_zones(region: &RegionInfo) -> Vec<(String, String)> {
    region.zones.iter().filter(|z| z.zone_type == "availability-zone").map(|z| (z.name.clone(), z.id.clone())).collect()
}

fn build(region: &RegionInfo, spec: &ServiceSpec, zones: &[(String, String)]) -> EndpointService {
    let r = region.name.as_str();
    EndpointService {
        name: service_name(r, spec.service),
        id: service_id(r, spec.service, spec.kind),
        kind: spec.kind,
        region: r.to_string(),
        zones: zones.to_vec(),
        base_dns_name: match spec.kind {
            EndpointType::Gateway => format!("{}.{r}.amazonaws.com", spec.service),
            EndpointType::Interface => format!("{}.{r}.vpce.amazonaws.com", spec.service),
        },
        private_dns_name: spec.private_dns.map(|p| p.replace("{region}", r)),
        policy_supported: spec.policy,
        ip_address_types: if spec.ipv6 { vec!["ipv4", "ipv6"] } else { vec!["ipv4"] },
    }
}

/// Every endpoint service of a region, in catalogue order.
pub fn services(region: &RegionInfo) -> Vec<EndpointService> {
    let zones = service_zones(region);
    CATALOGUE.iter().map(|s| build(region, s, &zones)).collect()
}

/// The services of a region with this name (one per type it is offered as).
pub fn services_named(region: &RegionInfo, name: &str) -> Vec<EndpointService> {
    let Some(short) = name
        .strip_prefix("com.amazonaws.")
        .and_then(|rest| rest.strip_prefix(region.name.as_str()))
        .and_then(|rest| rest.strip_prefix('.'))
    else {
        return Vec::new();
    };
    let zones = service_zones(region);
    CATALOGUE.iter().filter(|s| s.service == short).map(|s| build(region, s, &zones)).collect()
}

/// The service of this name offered as this type, if the region offers it.
pub fn service(region: &RegionInfo, name: &str, kind: EndpointType) -> Option<EndpointService> {
    services_named(region, name).into_iter().find(|s| s.kind == kind)
}

/// `DescribeVpcEndpointServices` filters (EC2 API reference). Amazon's services carry
/// no tags, so `tag:` filters match none of them.
pub const SERVICE_FILTERS: FilterSchema = FilterSchema {
    names: &["owner", "service-name", "service-region", "service-type", "supported-ip-address-types"],
    aliases: &[],
    tags: true,
};

impl Filterable for EndpointService {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "owner" => m(AMAZON_OWNER),
            "service-name" => m(&self.name),
            "service-region" => m(&self.region),
            "service-type" => m(self.kind.as_str()),
            "supported-ip-address-types" => self.ip_address_types.iter().any(|t| m(t)),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------
// Prefix lists

/// An AWS-managed prefix list (`DescribePrefixLists`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixList {
    /// `pl-` + 8 hex, derived from region and name.
    pub id: String,
    /// `com.amazonaws.<region>.<service>`.
    pub name: String,
    pub cidrs: Vec<String>,
}

/// The services with an AWS-managed prefix list, in the order AWS lists them.
pub const PREFIX_LIST_SERVICES: &[&str] = &["s3", "dynamodb", "s3express"];

/// Published ranges of the prefix-listed services in the regions where they are known
/// (AWS's `ip-ranges.json`, service S3 / DYNAMODB); other regions take a range of the
/// same shape from AWS's block for the region family (`regional_ranges`).
const KNOWN_RANGES: &[(&str, &str, &[&str])] = &[
    (
        "us-east-1",
        "s3",
        &[
            "16.182.0.0/16",
            "3.5.0.0/19",
            "44.192.134.240/28",
            "44.192.140.64/28",
            "52.216.0.0/15",
            "54.231.0.0/16",
            "18.34.232.0/21",
            "18.34.0.0/19",
        ],
    ),
    ("us-east-1", "dynamodb", &["3.218.182.0/24", "3.218.180.0/23", "52.94.0.0/22", "52.119.224.0/20"]),
    (
        "us-east-2",
        "s3",
        &[
            "16.12.64.0/22",
            "18.34.72.0/21",
            "3.5.128.0/22",
            "3.5.132.0/23",
            "52.219.80.0/20",
            "52.219.96.0/20",
            "52.219.176.0/20",
            "52.219.224.0/20",
            "52.219.232.0/22",
        ],
    ),
    ("us-east-2", "dynamodb", &["3.218.0.0/24", "52.94.4.0/24"]),
    (
        "us-west-1",
        "s3",
        &["52.219.20.0/22", "52.219.24.0/21", "54.231.232.0/21", "52.219.112.0/21", "52.219.120.0/22", "3.5.160.0/22"],
    ),
    ("us-west-1", "dynamodb", &["52.94.12.0/22", "64.252.70.0/24"]),
    (
        "us-west-2",
        "s3",
        &[
            "18.34.48.0/20",
            "3.5.76.0/22",
            "3.5.80.0/21",
            "52.92.128.0/17",
            "52.218.128.0/17",
            "35.80.36.208/28",
            "35.80.36.224/28",
            "18.34.244.0/22",
        ],
    ),
    ("us-west-2", "dynamodb", &["52.94.24.0/23", "52.94.26.0/23", "52.119.224.0/21"]),
    (
        "eu-west-1",
        "s3",
        &[
            "52.218.0.0/17",
            "3.5.64.0/21",
            "3.5.72.0/23",
            "52.92.0.0/17",
            "54.231.128.0/19",
            "18.34.32.0/20",
            "18.34.240.0/22",
        ],
    ),
    ("eu-west-1", "dynamodb", &["52.94.5.0/24", "52.94.24.0/23", "52.119.240.0/21"]),
    (
        "eu-central-1",
        "s3",
        &[
            "3.5.134.0/23",
            "3.5.136.0/22",
            "52.219.140.0/24",
            "52.219.168.0/24",
            "52.219.170.0/23",
            "52.219.44.0/22",
            "52.219.72.0/22",
            "18.34.240.0/22",
        ],
    ),
    ("eu-central-1", "dynamodb", &["52.94.6.0/24", "52.119.188.0/22"]),
    (
        "ap-northeast-1",
        "s3",
        &[
            "52.219.0.0/20",
            "52.219.16.0/22",
            "52.219.68.0/22",
            "52.219.136.0/22",
            "52.219.152.0/22",
            "3.5.152.0/21",
            "54.231.224.0/21",
        ],
    ),
    ("ap-northeast-1", "dynamodb", &["52.94.9.0/24", "52.119.196.0/22"]),
    (
        "ap-southeast-1",
        "s3",
        &["52.219.32.0/21", "52.219.128.0/22", "52.219.132.0/22", "3.5.146.0/23", "3.5.148.0/22", "54.231.240.0/22"],
    ),
    ("ap-southeast-1", "dynamodb", &["52.94.12.0/24", "52.119.204.0/22"]),
];

/// A range of the right shape for a region without a known range: two /22s of
/// 52.219.0.0/16 (S3), one /24 of 52.94.0.0/16 (DynamoDB), one /24 of 3.5.0.0/16 (S3
/// Express), chosen by the region's digest.
fn regional_ranges(region: &str, service: &str) -> Vec<String> {
    let d = digest(&["prefix-list-range", region, service]);
    match service {
        "s3" => {
            let a = d[0] & 0xfc;
            vec![format!("52.219.{a}.0/22"), format!("3.5.{}.0/22", d[1] & 0xfc)]
        }
        "dynamodb" => vec![format!("52.94.{}.0/24", d[0])],
        _ => vec![format!("3.5.{}.0/24", d[0])],
    }
}

/// The id of a region's prefix list: `pl-` + 8 hex of a digest of region and name.
pub fn prefix_list_id(region: &str, service: &str) -> String {
    let d = digest(&["prefix-list", region, service]);
    format!("pl-{}", hex(&d[..4]))
}

fn make_prefix_list(region: &str, service: &str) -> PrefixList {
    let cidrs = match service {
        // S3 Express One Zone: its own ranges, in every region the same shape.
        "s3express" => regional_ranges(region, service),
        _ => KNOWN_RANGES
            .iter()
            .find(|(r, s, _)| *r == region && *s == service)
            .map(|(_, _, c)| c.iter().map(|c| c.to_string()).collect())
            .unwrap_or_else(|| regional_ranges(region, service)),
    };
    PrefixList { id: prefix_list_id(region, service), name: service_name(region, service), cidrs }
}

/// The AWS-managed prefix lists of a region, in AWS's order.
pub fn prefix_lists(region: &str) -> Vec<PrefixList> {
    PREFIX_LIST_SERVICES.iter().map(|s| make_prefix_list(region, s)).collect()
}

/// The AWS-managed prefix list of a region with this id.
pub fn prefix_list(region: &str, id: &str) -> Option<PrefixList> {
    PREFIX_LIST_SERVICES.iter().find(|s| prefix_list_id(region, s) == id).map(|s| make_prefix_list(region, s))
}

/// The prefix list a gateway endpoint's routes point at: the one of its service.
pub fn prefix_list_of_service(region: &str, service_name: &str) -> Option<PrefixList> {
    prefix_lists(region).into_iter().find(|p| p.name == service_name)
}

/// `DescribePrefixLists` filters.
pub const PREFIX_LIST_FILTERS: FilterSchema =
    FilterSchema { names: &["prefix-list-id", "prefix-list-name"], aliases: &[], tags: false };

impl Filterable for PrefixList {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "prefix-list-id" => m(&self.id),
            "prefix-list-name" => m(&self.name),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------
// Endpoints

/// `IpAddressType` of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IpAddressType {
    Ipv4,
    Dualstack,
    Ipv6,
}

impl IpAddressType {
    pub fn as_str(self) -> &'static str {
        match self {
            IpAddressType::Ipv4 => "ipv4",
            IpAddressType::Dualstack => "dualstack",
            IpAddressType::Ipv6 => "ipv6",
        }
    }

    pub fn parse(text: &str) -> Result<IpAddressType, NetError> {
        match text {
            "ipv4" => Ok(IpAddressType::Ipv4),
            "dualstack" => Ok(IpAddressType::Dualstack),
            "ipv6" => Ok(IpAddressType::Ipv6),
            other => Err(NetError::InvalidValue(format!(
                "Value ({other}) for parameter IpAddressType is invalid. Valid values: ipv4, dualstack, ipv6."
            ))),
        }
    }
}

/// `DnsRecordIpType` of an interface endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsRecordIpType {
    Ipv4,
    Dualstack,
    Ipv6,
    ServiceDefined,
}

impl DnsRecordIpType {
    pub fn as_str(self) -> &'static str {
        match self {
            DnsRecordIpType::Ipv4 => "ipv4",
            DnsRecordIpType::Dualstack => "dualstack",
            DnsRecordIpType::Ipv6 => "ipv6",
            DnsRecordIpType::ServiceDefined => "service-defined",
        }
    }

    pub fn parse(text: &str) -> Result<DnsRecordIpType, NetError> {
        match text {
            "ipv4" => Ok(DnsRecordIpType::Ipv4),
            "dualstack" => Ok(DnsRecordIpType::Dualstack),
            "ipv6" => Ok(DnsRecordIpType::Ipv6),
            "service-defined" => Ok(DnsRecordIpType::ServiceDefined),
            other => Err(NetError::InvalidValue(format!(
                "Value ({other}) for parameter DnsRecordIpType is invalid. Valid values: ipv4, dualstack, ipv6, service-defined."
            ))),
        }
    }

    /// The record type an endpoint of `ip` gets when none is asked for.
    pub fn default_for(ip: IpAddressType) -> DnsRecordIpType {
        match ip {
            IpAddressType::Ipv4 => DnsRecordIpType::Ipv4,
            IpAddressType::Dualstack => DnsRecordIpType::Dualstack,
            IpAddressType::Ipv6 => DnsRecordIpType::Ipv6,
        }
    }

    /// Whether endpoints of `ip` can have records of this type.
    pub fn fits(self, ip: IpAddressType) -> bool {
        matches!(
            (self, ip),
            (DnsRecordIpType::ServiceDefined, _)
                | (DnsRecordIpType::Ipv4, IpAddressType::Ipv4 | IpAddressType::Dualstack)
                | (DnsRecordIpType::Ipv6, IpAddressType::Ipv6 | IpAddressType::Dualstack)
                | (DnsRecordIpType::Dualstack, IpAddressType::Dualstack)
        )
    }
}

/// One network interface of an interface endpoint: in one subnet, so in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointInterface {
    pub subnet_id: String,
    pub availability_zone: String,
    pub network_interface_id: String,
}

/// A security group of an interface endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointGroup {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcEndpoint {
    pub id: String,
    pub owner: AccountId,
    pub vpc_id: String,
    pub endpoint_type: EndpointType,
    pub service_name: String,
    /// The policy document as given; `None` is the default full-access policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Gateway: the route tables with a route to the service's prefix list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_table_ids: Vec<String>,
    /// Interface: one network interface per subnet (one subnet per zone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<EndpointInterface>,
    /// Interface: the security groups of its network interfaces (id and name; a group's
    /// name never changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<EndpointGroup>,
    pub ip_address_type: IpAddressType,
    /// Interface: DNS options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_record_ip_type: Option<DnsRecordIpType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns_only_for_inbound_resolver_endpoint: Option<bool>,
    pub private_dns_enabled: bool,
    /// Interface: the 8 characters of its DNS names (`vpce-…-<suffix>.<service>…`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dns_suffix: String,
    pub created: Timestamp,
}

impl VpcEndpoint {
    pub fn subnet_ids(&self) -> impl Iterator<Item = &str> {
        self.interfaces.iter().map(|i| i.subnet_id.as_str())
    }

    /// The state: endpoints are `available` from creation until deleted.
    pub fn state(&self) -> &'static str {
        "available"
    }

    /// The policy document in force.
    pub fn policy_document(&self) -> &str {
        self.policy.as_deref().unwrap_or(DEFAULT_POLICY)
    }
}

/// The policy an endpoint gets when none is given: full access, as AWS attaches.
pub const DEFAULT_POLICY: &str = "{\n  \"Version\": \"2008-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": \"*\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";

/// The longest endpoint policy AWS takes (characters).
pub const MAX_POLICY_LENGTH: usize = 20_480;

/// Checks a policy document: a JSON object, at most [`MAX_POLICY_LENGTH`] characters.
pub fn check_policy(text: &str) -> Result<(), NetError> {
    if text.chars().count() > MAX_POLICY_LENGTH {
        return Err(NetError::PolicyDocument(format!(
            "The Policy Document is not valid. It exceeds the maximum length of {MAX_POLICY_LENGTH} characters."
        )));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(NetError::PolicyDocument(
            "The Policy Document is not valid. A policy document must be a JSON object.".into(),
        )),
        Err(e) => Err(NetError::PolicyDocument(format!(
            "The Policy Document is not valid. Syntax error at position ({},{})",
            e.line(),
            e.column()
        ))),
    }
}

/// 8 lower-case letters and digits for an interface endpoint's DNS names.
pub fn dns_suffix(rng: &mut dyn crate::ids::Random) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 8];
    rng.fill(&mut bytes);
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

/// The hosted zone of a region's `vpce.amazonaws.com` names: `Z` + 13 upper-case letters
/// and digits, derived from the region.
pub fn regional_hosted_zone(region: &str) -> String {
    hosted_zone(&["vpce-zone", region], 13)
}

/// The private hosted zone an endpoint's private DNS name lives in (`Z` + 20).
pub fn private_hosted_zone(endpoint_id: &str) -> String {
    hosted_zone(&["private-zone", endpoint_id], 20)
}

fn hosted_zone(parts: &[&str], len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let d = digest(parts);
    std::iter::once('Z').chain(d.iter().take(len).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)).collect()
}

/// A DNS entry of an interface endpoint (`DnsEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsEntry {
    pub name: String,
    pub hosted_zone_id: String,
}

/// The DNS entries of an interface endpoint of `service`: the regional name, one per
/// zone of its subnets, and the private DNS name when private DNS is on. A service whose
/// private name is a wildcard (`*.s3…`) gets wildcard endpoint names, as AWS gives.
pub fn dns_entries(e: &VpcEndpoint, service: &EndpointService) -> Vec<DnsEntry> {
    if e.endpoint_type != EndpointType::Interface {
        return Vec::new();
    }
    let wildcard = service.private_dns_name.as_deref().is_some_and(|n| n.starts_with("*."));
    let star = if wildcard { "*." } else { "" };
    let zone = regional_hosted_zone(&service.region);
    let mut out = vec![DnsEntry {
        name: format!("{star}{}-{}.{}", e.id, e.dns_suffix, service.base_dns_name),
        hosted_zone_id: zone.clone(),
    }];
    let mut zones: Vec<&str> = e.interfaces.iter().map(|i| i.availability_zone.as_str()).collect();
    zones.sort_unstable();
    zones.dedup();
    for z in zones {
        out.push(DnsEntry {
            name: format!("{star}{}-{}-{z}.{}", e.id, e.dns_suffix, service.base_dns_name),
            hosted_zone_id: zone.clone(),
        });
    }
    if e.private_dns_enabled
        && let Some(private) = &service.private_dns_name
    {
        out.push(DnsEntry { name: private.clone(), hosted_zone_id: private_hosted_zone(&e.id) });
    }
    out
}

/// Checks the subnets of an interface endpoint: at most one per Availability Zone, each
/// in a zone the service is offered in. `subnets` are (subnet id, zone name).
pub fn check_subnet_zones(subnets: &[(String, String)], service: &EndpointService) -> Result<(), NetError> {
    for (i, (id, zone)) in subnets.iter().enumerate() {
        if !service.zones.iter().any(|(z, _)| z == zone) {
            return Err(NetError::InvalidParameter(format!(
                "The VPC endpoint service {} does not support the availability zone of the subnet: {id}.",
                service.name
            )));
        }
        if subnets[..i].iter().any(|(_, z)| z == zone) {
            return Err(NetError::DuplicateSubnetsInSameZone(format!(
                "Found another VPC endpoint subnet in the availability zone of {id}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service."
            )));
        }
    }
    Ok(())
}

/// `DescribeVpcEndpoints` filters (EC2 API reference).
pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "ip-address-type",
        "service-name",
        "service-region",
        "vpc-id",
        "vpc-endpoint-id",
        "vpc-endpoint-state",
        "vpc-endpoint-type",
    ],
    aliases: &[],
    tags: true,
};

impl VpcEndpoint {
    /// The region of its service (`com.amazonaws.<region>.<service>`).
    pub fn service_region(&self) -> &str {
        self.service_name.strip_prefix("com.amazonaws.").and_then(|r| r.split('.').next()).unwrap_or("")
    }
}

impl Filterable for VpcEndpoint {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "ip-address-type" => m(self.ip_address_type.as_str()),
            "service-name" => m(&self.service_name),
            "service-region" => m(self.service_region()),
            "vpc-id" => m(&self.vpc_id),
            "vpc-endpoint-id" => m(&self.id),
            "vpc-endpoint-state" => m(self.state()),
            "vpc-endpoint-type" => m(self.endpoint_type.as_str()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};
    use crate::region::Catalogue;
    use crate::tags::Tag;

    fn use1() -> RegionInfo {
        Catalogue::builtin().region("us-east-1").unwrap().clone()
    }

    #[test]
    fn every_catalogue_entry_has_the_form_of_an_aws_service() {
        let catalogue = Catalogue::builtin();
        let short = regex::Regex::new(r"^[a-z0-9]+([.-][a-z0-9]+)*$").unwrap();
        let svc_id = regex::Regex::new(r"^vpce-svc-[0-9a-f]{17}$").unwrap();
        // Sorted by name, gateway before interface; each (name, type) once.
        for pair in CATALOGUE.windows(2) {
            assert!((pair[0].service, pair[0].kind) < (pair[1].service, pair[1].kind), "{pair:?}");
        }
        for required in ["s3", "dynamodb"] {
            assert!(CATALOGUE.iter().any(|s| s.service == required && s.kind == EndpointType::Gateway));
        }
        for required in [
            "s3",
            "ec2",
            "ec2messages",
            "ssm",
            "ssmmessages",
            "sts",
            "kms",
            "logs",
            "monitoring",
            "secretsmanager",
            "sqs",
            "sns",
            "ecr.api",
            "ecr.dkr",
            "ecs",
            "elasticloadbalancing",
            "lambda",
            "execute-api",
            "kinesis-streams",
            "events",
            "cognito-identity",
            "ram",
        ] {
            assert!(CATALOGUE.iter().any(|s| s.service == required && s.kind == EndpointType::Interface), "{required}");
        }
        for region in catalogue.regions() {
            let all = services(region);
            assert_eq!(all.len(), CATALOGUE.len());
            let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), all.len(), "service ids are unique in {}", region.name);
            for s in &all {
                let r = &region.name;
                let tail = s.name.strip_prefix(&format!("com.amazonaws.{r}.")).expect("name form");
                assert!(short.is_match(tail), "{}", s.name);
                assert!(svc_id.is_match(&s.id), "{}", s.id);
                assert_eq!(s.region, *r);
                assert!(!s.zones.is_empty());
                assert!(s.zones.iter().all(|(z, id)| z.starts_with(r.as_str()) && !id.is_empty()));
                assert!(s.ip_address_types.first() == Some(&"ipv4"));
                match s.kind {
                    EndpointType::Gateway => {
                        assert_eq!(s.base_dns_name, format!("{tail}.{r}.amazonaws.com"));
                        assert!(s.private_dns_name.is_none());
                    }
                    EndpointType::Interface => {
                        assert_eq!(s.base_dns_name, format!("{tail}.{r}.vpce.amazonaws.com"));
                        let private = s.private_dns_name.as_deref().expect("interface services have one");
                        assert!(private.ends_with(&format!(".{r}.amazonaws.com")), "{private}");
                        assert!(!private.contains('{'));
                    }
                }
                assert_eq!(service(region, &s.name, s.kind).as_ref(), Some(s));
            }
        }
        // Local Zones offer no endpoint services.
        let usw2 = catalogue.region("us-west-2").unwrap();
        assert!(service_zones(usw2).iter().all(|(z, _)| !z.contains("lax")));
    }

    #[test]
    fn service_ids_are_stable_and_differ_by_region_and_type() {
        let a = service_id("us-east-1", "s3", EndpointType::Gateway);
        assert_eq!(a, service_id("us-east-1", "s3", EndpointType::Gateway));
        assert_ne!(a, service_id("us-east-1", "s3", EndpointType::Interface));
        assert_ne!(a, service_id("us-east-2", "s3", EndpointType::Gateway));
        let r = use1();
        assert_eq!(services_named(&r, "com.amazonaws.us-east-1.s3").len(), 2);
        assert!(services_named(&r, "com.amazonaws.us-east-2.s3").is_empty());
        assert!(services_named(&r, "com.amazonaws.us-east-1.nope").is_empty());
        assert!(service(&r, "com.amazonaws.us-east-1.ec2", EndpointType::Gateway).is_none());
    }

    #[test]
    fn prefix_lists_are_stable_per_region() {
        let pl = regex::Regex::new(r"^pl-[0-9a-f]{8}$").unwrap();
        for region in Catalogue::builtin().regions() {
            let lists = prefix_lists(&region.name);
            assert_eq!(lists.len(), PREFIX_LIST_SERVICES.len());
            for l in &lists {
                assert!(pl.is_match(&l.id), "{}", l.id);
                assert!(crate::ids::ResourceKind::PrefixList.is_well_formed(&l.id));
                assert!(l.name.starts_with(&format!("com.amazonaws.{}.", region.name)));
                assert!(!l.cidrs.is_empty());
                for c in &l.cidrs {
                    let net: ipnet::Ipv4Net = c.parse().expect("a CIDR");
                    assert_eq!(net.trunc(), net, "{c} is canonical");
                }
                assert_eq!(prefix_list(&region.name, &l.id).as_ref(), Some(l));
            }
            assert_eq!(prefix_lists(&region.name), lists, "the same every time");
        }
        assert_ne!(prefix_list_id("us-east-1", "s3"), prefix_list_id("us-east-2", "s3"));
        assert!(prefix_list("us-east-1", &prefix_list_id("us-east-2", "s3")).is_none());
        assert_eq!(
            prefix_list_of_service("us-east-1", "com.amazonaws.us-east-1.s3").unwrap().id,
            prefix_list_id("us-east-1", "s3")
        );
    }

    #[test]
    fn policies() {
        assert!(check_policy(DEFAULT_POLICY).is_ok());
        assert!(check_policy(r#"{"Statement":[]}"#).is_ok());
        assert!(matches!(check_policy("{nope"), Err(NetError::PolicyDocument(_))));
        assert!(matches!(check_policy("[1]"), Err(NetError::PolicyDocument(_))));
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_POLICY_LENGTH));
        assert!(matches!(check_policy(&long), Err(NetError::PolicyDocument(_))));
    }

    fn endpoint(kind: EndpointType) -> VpcEndpoint {
        VpcEndpoint {
            id: "vpce-0123456789abcdef0".into(),
            owner: AccountId::default_account(),
            vpc_id: "vpc-1".into(),
            endpoint_type: kind,
            service_name: "com.amazonaws.us-east-1.s3".into(),
            policy: None,
            route_table_ids: vec![],
            interfaces: vec![
                EndpointInterface {
                    subnet_id: "subnet-1".into(),
                    availability_zone: "us-east-1b".into(),
                    network_interface_id: "eni-1".into(),
                },
                EndpointInterface {
                    subnet_id: "subnet-2".into(),
                    availability_zone: "us-east-1a".into(),
                    network_interface_id: "eni-2".into(),
                },
            ],
            groups: vec![],
            ip_address_type: IpAddressType::Ipv4,
            dns_record_ip_type: Some(DnsRecordIpType::Ipv4),
            private_dns_only_for_inbound_resolver_endpoint: None,
            private_dns_enabled: true,
            dns_suffix: "abcd1234".into(),
            created: Timestamp(0),
        }
    }

    #[test]
    fn dns_entries_of_an_interface_endpoint() {
        let r = use1();
        let s3 = service(&r, "com.amazonaws.us-east-1.s3", EndpointType::Interface).unwrap();
        let names: Vec<String> =
            dns_entries(&endpoint(EndpointType::Interface), &s3).into_iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "*.vpce-0123456789abcdef0-abcd1234.s3.us-east-1.vpce.amazonaws.com",
                "*.vpce-0123456789abcdef0-abcd1234-us-east-1a.s3.us-east-1.vpce.amazonaws.com",
                "*.vpce-0123456789abcdef0-abcd1234-us-east-1b.s3.us-east-1.vpce.amazonaws.com",
                "*.s3.us-east-1.amazonaws.com",
            ]
        );
        let gw = service(&r, "com.amazonaws.us-east-1.s3", EndpointType::Gateway).unwrap();
        assert!(dns_entries(&endpoint(EndpointType::Gateway), &gw).is_empty());
    }

    #[test]
    fn one_subnet_per_zone() {
        let r = use1();
        let ec2 = service(&r, "com.amazonaws.us-east-1.ec2", EndpointType::Interface).unwrap();
        let s = |id: &str, z: &str| (id.to_string(), z.to_string());
        assert!(check_subnet_zones(&[s("a", "us-east-1a"), s("b", "us-east-1b")], &ec2).is_ok());
        assert!(matches!(
            check_subnet_zones(&[s("a", "us-east-1a"), s("b", "us-east-1a")], &ec2),
            Err(NetError::DuplicateSubnetsInSameZone(_))
        ));
        assert!(matches!(check_subnet_zones(&[s("a", "us-west-2-lax-1a")], &ec2), Err(NetError::InvalidParameter(_))));
    }

    #[test]
    fn filters() {
        let e = endpoint(EndpointType::Gateway);
        let tags = vec![Tag { key: "k".into(), value: "v".into() }];
        let check = |name: &str, value: &str| {
            FilterSet::compile(&[Filter::new(name, &[value])], &FILTERS).unwrap().matches(&e, &tags)
        };
        assert!(check("vpc-endpoint-type", "Gateway"));
        assert!(!check("vpc-endpoint-type", "Interface"));
        assert!(check("vpc-endpoint-state", "available"));
        assert!(check("service-name", "com.amazonaws.us-east-1.s3"));
        assert!(check("service-region", "us-east-1"));
        assert!(check("ip-address-type", "ipv4"));
        assert!(check("vpc-id", "vpc-1"));
        assert!(check("vpc-endpoint-id", "vpce-0123456789abcdef0"));
        assert!(check("tag:k", "v"));
        assert!(FilterSet::compile(&[Filter::new("subnet-id", &["x"])], &FILTERS).is_err());

        let r = use1();
        let svc = service(&r, "com.amazonaws.us-east-1.sqs", EndpointType::Interface).unwrap();
        let s = |name: &str, value: &str| {
            FilterSet::compile(&[Filter::new(name, &[value])], &SERVICE_FILTERS).unwrap().matches::<Tag>(&svc, &[])
        };
        assert!(s("service-type", "Interface"));
        assert!(s("owner", "amazon"));
        assert!(s("supported-ip-address-types", "ipv6"));
        assert!(s("service-region", "us-east-1"));
        assert!(s("service-name", "*.sqs"));
        assert!(!s("tag:any", "x"));
    }
}
