//! The MapReduce framework: everything but the coordinator's rules and the
//! worker. Do not edit: the grader relies on it as it is.

pub mod app;
pub mod apps;
pub mod error;
pub mod files;
pub mod job;
pub mod real;
pub mod rpc;
pub mod sequential;
pub mod sim;
