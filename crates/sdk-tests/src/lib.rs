//! aws-sdk-rust tests live in tests/.
