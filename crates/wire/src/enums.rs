//! String enums of the AWS models.
//!
//! Every generated enum has a variant per modeled value plus `Unknown(String)`: decoding
//! never fails on an unlisted value, validation reports it (so the error names the
//! member and lists the allowed values, as AWS does), and handlers match on variants
//! instead of comparing strings.

/// Implemented by every generated enum.
pub trait WireEnum: Sized {
    /// The modeled values, in model order.
    const VALUES: &'static [&'static str];
    fn as_str(&self) -> &str;
    /// Never fails: an unlisted value becomes `Unknown`.
    fn from_wire(s: &str) -> Self;
    fn is_known(&self) -> bool;
}

/// Serde support for a generated enum: a JSON string.
#[macro_export]
macro_rules! wire_enum_serde {
    ($ty:ty) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str($crate::enums::WireEnum::as_str(self))
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::string::String as ::serde::Deserialize>::deserialize(d)?;
                Ok(<$ty as $crate::enums::WireEnum>::from_wire(&s))
            }
        }
    };
}
