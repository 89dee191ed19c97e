//! Which members of an input the caller set.
//!
//! Every generated input structure has a `<Shape>Member` enum naming its members and
//! implements [`Members`]. Handlers list the members they implement with those enums,
//! so a misspelt member does not compile, and members a caller set beyond them are
//! refused (`NotImplemented`) rather than ignored.

/// A member of an input structure.
pub trait MemberName: Copy + PartialEq + 'static {
    /// The member's model name (`CidrBlock`).
    fn name(self) -> &'static str;
}

/// An input structure whose set members can be listed.
pub trait Members {
    type Member: MemberName;
    /// The members the caller set, in model order.
    fn present_members(&self) -> Vec<Self::Member>;

    /// The first member the caller set that is not in `implemented`.
    fn first_unimplemented(&self, implemented: &[Self::Member]) -> Option<&'static str> {
        self.present_members().into_iter().find(|m| !implemented.contains(m)).map(MemberName::name)
    }
}
