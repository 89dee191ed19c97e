//! Network interfaces, their private addresses and attachments.
