//! Error codes and the HTTP status each travels with.
//!
//! A [`Code`] can only be made inside this crate: the EC2 table (`ec2::codes`), the
//! JSON protocols' own codes (`json::codes`) and each JSON service's modeled errors
//! (`generated::<service>::codes`, from the model) are the only places a code and its
//! status are written down. Handlers pick a constant; they cannot type a code.

/// An AWS error code and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    code: &'static str,
    status: u16,
}

impl Code {
    pub(crate) const fn new(code: &'static str, status: u16) -> Code {
        Code { code, status }
    }

    /// The code as sent (`InvalidVpcID.NotFound`, `ResourceNotFoundException`).
    pub const fn code(self) -> &'static str {
        self.code
    }

    /// The HTTP status it is sent with.
    pub const fn status(self) -> u16 {
        self.status
    }
}

/// Declares a table of codes: one constant per row, and `ALL`, every row, for tests
/// that check the table as a whole.
macro_rules! code_table {
    ($( $(#[$doc:meta])* $name:ident = ($code:literal, $status:literal); )*) => {
        $( $(#[$doc])* pub const $name: $crate::codes::Code = $crate::codes::Code::new($code, $status); )*
        /// Every code of this table.
        pub const ALL: &[$crate::codes::Code] = &[$($name),*];
    };
}
pub(crate) use code_table;
