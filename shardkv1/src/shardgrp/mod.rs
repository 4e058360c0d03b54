//! A shard group: its servers (on `rsm`) and the clerk that talks to them.

pub mod client;
pub mod server;
