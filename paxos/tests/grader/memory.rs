//! Heap accounting for the memory tests: labtest's counting allocator,
//! installed for this test binary.

pub use labtest::live_bytes;

#[global_allocator]
static ALLOCATOR: labtest::CountingAllocator = labtest::CountingAllocator;
