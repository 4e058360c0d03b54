//! The kvsrv grader (6.5840 Lab 2): every test of the course's kvsrv and
//! lock suites, plus a few of ours, on the simulator.
//!
//! | part | what | tests |
//! | --- | --- | --- |
//! | 2A | server and clerk, reliable network | `part_kv`: reliable_put, put_concurrent_reliable, mem_put_many_clients_reliable |
//! | 2B | lock, reliable network | `part_lock`: reliable_basic, reliable_nested, one_client_reliable, many_clients_reliable |
//! | 2C | clerk, unreliable network | `part_kv`: unreliable_net, put_concurrent_unreliable (ours) |
//! | 2D | lock, unreliable network | `part_lock`: one_client_unreliable, many_clients_unreliable, many_clients_unreliable_long (ours) |
//!
//! Every clerk operation is recorded with its virtual call and return times
//! and the history is checked with the versioned KV model. The memory test
//! measures the server's heap with a counting allocator ([`memory`]).

mod harness;
mod memory;
mod part_kv;
mod part_lock;
