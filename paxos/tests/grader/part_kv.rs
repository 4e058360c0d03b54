//! Part KV
