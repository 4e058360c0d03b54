//! The models shipped with the checker: the labs' KV store, a register and a
//! compare-and-set register.

mod cas_register;
mod kv;
mod register;

pub use cas_register::{CasInput, CasOutput, CasRegisterModel};
pub use kv::{KvInput, KvModel, KvOutput, KvState, KvStoreState, KvUnpartitionedModel};
pub use register::{RegisterInput, RegisterModel, RegisterOutput};
