//! The lab's fixed parts: the messages, the service declaration and the
//! requests the servers put through `rsm` ([`rpc`]). The grader relies on
//! them as they are: do not edit.

pub mod rpc;
