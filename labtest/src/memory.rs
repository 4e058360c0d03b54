//! Heap accounting for memory tests: a global allocator that keeps, per
//! thread, the bytes currently allocated by that thread. A simulation runs
//! on one thread, so the difference across a drop on that thread is what
//! the dropped value held.
//!
//! The allocator wraps the system one; the counter is a const-initialised
//! thread-local `Cell` (no destructor, so touching it never allocates).
#![allow(unsafe_code)] // a GlobalAlloc is unsafe by definition; it only forwards to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn add(bytes: i64) {
    let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
}

/// Bytes allocated and not yet freed by this thread (frees of memory that
/// another thread allocated count too, so only differences mean anything).
pub fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}

/// The counting allocator. A grader that measures memory installs it:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: labtest::CountingAllocator = labtest::CountingAllocator;
/// ```
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments and
// only updates a thread-local counter besides.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}
