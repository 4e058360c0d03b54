//! The lab's fixed parts: shard configurations ([`shardcfg`]) and the
//! messages and requests of the shard groups ([`rpc`]). The grader relies
//! on them as they are: do not edit.

pub mod rpc;
pub mod shardcfg;
