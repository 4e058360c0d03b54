//! The models shipped with the checker: the labs' KV store, kvsrv's
//! versioned KV store, a register and a compare-and-set register.

mod cas_register;
mod kv;
mod register;
mod versioned_kv;

pub use cas_register::{CasInput, CasOutput, CasRegisterModel};
pub use kv::{KvInput, KvModel, KvOutput, KvState, KvStoreState, KvUnpartitionedModel};
pub use register::{RegisterInput, RegisterModel, RegisterOutput};
pub use versioned_kv::{VersionedKvInput, VersionedKvModel, VersionedKvOutput, VersionedKvState};
