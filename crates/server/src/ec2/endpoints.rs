//! VPC endpoints, endpoint services and prefix lists.
