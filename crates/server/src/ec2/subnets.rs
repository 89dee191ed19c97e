//! Subnets (`CreateSubnet` … `CreateDefaultSubnet`, `CreateDefaultVpc`) and the private
//! addresses of a subnet, taken from its address space.
