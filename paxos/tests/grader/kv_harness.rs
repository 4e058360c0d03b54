//! kv harness
