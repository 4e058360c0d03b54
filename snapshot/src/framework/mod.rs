//! The lab's fixed parts: the token-passing application and its messages
//! ([`app`]), the topologies ([`topology`]), the FIFO channels between
//! processes on the simulator ([`link`]) and the system that runs it all
//! ([`system`]). The grader relies on them as they are: do not edit.

pub mod app;
pub mod dataflow;
pub mod link;
pub mod system;
pub mod topology;
