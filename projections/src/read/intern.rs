//! Interning: every id the change log refers to (people, periods, units, items, aspects, rubrics)
//! is stored once and named by a small number, so that an entry stays 32 bytes.
//!
//! The interner is append-only: a number once given keeps its meaning, which is what lets the change
//! log be cut at any position without touching the interners.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64 bits: a fast, deterministic hash for short ids (std's SipHash guards against chosen
/// collisions, which ids recorded by authenticated staff do not need, and costs more per id).
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let hash = if self.0 == 0 { FNV_OFFSET } else { self.0 };
        self.0 = fnv_extend(hash, bytes);
    }
}

/// A `HashMap` hashed with [`Fnv`].
pub type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// FNV-1a 64 of a byte string (also the fingerprint of golden snapshots).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_concat([bytes])
}

/// FNV-1a 64 of the concatenation of `pieces`, without building it.
pub fn fnv1a64_concat<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    pieces.into_iter().fold(FNV_OFFSET, fnv_extend)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv_extend(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Strings to dense numbers and back.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    ids: FnvMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The number of `name`, given now if it has none yet.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 distinct ids");
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    /// The number of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(|n| &**n)
    }

    /// The names, by number.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(|n| &**n)
    }

    /// An interner that gives the names these numbers (their index), as [`Interner::names`] listed
    /// them; `None` if a name appears twice (then numbers would not name one id each).
    pub fn from_names(names: Vec<String>) -> Option<Self> {
        let mut interner = Self::default();
        for name in names {
            if interner.get(&name).is_some() {
                return None;
            }
            interner.intern(&name);
        }
        Some(interner)
    }

    pub fn count(&self) -> usize {
        self.names.len()
    }

    /// Heap bytes held, approximately (names twice, the table's slots).
    pub fn heap_bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| n.len()).sum();
        2 * names
            + self.names.capacity() * std::mem::size_of::<Box<str>>()
            + self.ids.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1)
    }
}
