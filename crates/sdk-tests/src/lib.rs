//! aws-sdk-rust against Reservoir: the tests are in `tests/`. This crate is not a default
//! workspace member (`cargo test -p reservoir-sdk-tests` runs it) because aws-sdk-ec2
//! takes minutes and gigabytes to build.
