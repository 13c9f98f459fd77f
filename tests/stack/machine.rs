//! The machine, shared between this binary's tests. Most run two at a
//! time, as they did when each file was its own binary. The fault matrix
//! (eight stacks at once) and the control thread's real-time run each
//! have the machine to themselves: their deadlines are what they measure.

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

static MACHINE: RwLock<()> = RwLock::new(());

/// For a test that may run beside another.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(PoisonError::into_inner)
}

/// For a test that must run alone.
pub fn alone() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().unwrap_or_else(PoisonError::into_inner)
}
