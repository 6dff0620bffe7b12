//! [`SharedMap`]: an ordered map whose clones share structure, so that a snapshot of the whole
//! [`State`](super::State) costs a handful of pointer copies and a later change copies only what it
//! touches.
//!
//! # Shape
//!
//! A two-level persistent B-tree: a sorted run of chunks, each a sorted `Vec` of at most
//! [`CHUNK_MAX`] entries, every value behind its own `Arc`:
//!
//! ```text
//! SharedMap ─ Arc<[ (first key, Arc<chunk 0>), (first key, Arc<chunk 1>), … ]>
//!                                              chunk = Vec<(K, Arc<V>)>, sorted, ≤ 64 entries
//! ```
//!
//! The first key of every chunk is kept beside its pointer, so that finding the chunk reads one
//! contiguous array instead of chasing a pointer per comparison.
//!
//! - `clone()` is O(1): one reference count.
//! - A write after a clone copies, once per snapshot interval, the run of chunk pointers (a key and
//!   a pointer per chunk), the touched chunk (its keys and value pointers, ≤ 64 entries) and the touched value
//!   (`Arc::make_mut`); every untouched chunk and value stays shared with the snapshot.
//! - Without a live clone, `Arc::make_mut` finds every count at one and copies nothing: the fold pays
//!   three reference-count checks per write.
//!
//! Reads are two binary searches, or one comparison when the key is the last one found (the
//! finger: folding looks the same sheet up several times per event; 20% off the fold at 1M events).
//! Iteration is in key order, like a `BTreeMap`, and so are equality, `Debug` and the serialised
//! form (a sequence of `[key, value]` pairs, independent of the chunking). Keys are never removed
//! by the fold, so there is no removal.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most entries a chunk holds; a fuller chunk splits in two halves.
pub const CHUNK_MAX: usize = 64;

type Chunk<K, V> = Vec<(K, Arc<V>)>;

/// The run of chunks, each with a copy of its first key.
type Run<K, V> = Vec<(K, Arc<Chunk<K, V>>)>;

/// An ordered map with O(1) clones that share structure; see the module docs.
pub struct SharedMap<K, V> {
    /// Non-empty, sorted chunks, each with a copy of its first key; the first key of each is
    /// greater than every key of the one before.
    chunks: Arc<Run<K, V>>,
    len: usize,
    /// Where the last key found was (chunk and entry, packed), tried first by the next look-up:
    /// folding looks the same sheet up several times per event (state, change log), and events of
    /// one sheet often come together. Only a hint: it is used only when the key there is the one
    /// wanted (keys are unique, so that is exactly where a search would end), so a stale one costs
    /// one comparison and is never wrong. Not part of the map's value (equality, serde ignore it).
    finger: AtomicU64,
}

/// No finger.
const NO_FINGER: u64 = u64::MAX;

impl<K, V> Clone for SharedMap<K, V> {
    fn clone(&self) -> Self {
        Self {
            chunks: Arc::clone(&self.chunks),
            len: self.len,
            finger: AtomicU64::new(self.finger.load(Relaxed)),
        }
    }
}

impl<K, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        Self {
            chunks: Arc::new(Vec::new()),
            len: 0,
            finger: AtomicU64::new(NO_FINGER),
        }
    }
}

impl<K, V> SharedMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            chunks: self.chunks.iter(),
            current: [].iter(),
            remaining: self.len,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Where the key that `cmp` looks for is, or would go: `cmp(k)` orders a stored key `k` against
    /// the key looked for (`k.cmp(wanted)`).
    fn locate_by(&self, cmp: impl Fn(&K) -> Ordering) -> (usize, Result<usize, usize>) {
        let chunks = &*self.chunks;
        if chunks.is_empty() {
            return (0, Err(0));
        }
        let finger = self.finger.load(Relaxed);
        let (c, i) = ((finger >> 32) as usize, (finger & 0xffff_ffff) as usize);
        if let Some((k, _)) = chunks.get(c).and_then(|(_, entries)| entries.get(i))
            && cmp(k) == Ordering::Equal
        {
            return (c, Ok(i));
        }
        // The last chunk whose first key is not above the wanted key (or the first chunk).
        let after = chunks.partition_point(|(first, _)| cmp(first) != Ordering::Greater);
        let index = after.saturating_sub(1);
        let found = chunks[index].1.binary_search_by(|(k, _)| cmp(k));
        if let Ok(i) = found {
            self.finger
                .store(((index as u64) << 32) | (i as u64 & 0xffff_ffff), Relaxed);
        }
        (index, found)
    }

    /// Looks a key up by a comparison (`|k| k.cmp(wanted)`), for composite keys that would otherwise
    /// need an owned key to be built.
    pub fn get_by(&self, cmp: impl Fn(&K) -> Ordering) -> Option<&V> {
        let (chunk, found) = self.locate_by(cmp);
        found.ok().map(|i| &*self.chunks[chunk].1[i].1)
    }

    /// Like [`get_by`](Self::get_by), for writing: copies the chunk and the value if a snapshot
    /// shares them.
    pub fn get_mut_by(&mut self, cmp: impl Fn(&K) -> Ordering) -> Option<&mut V>
    where
        K: Clone,
        V: Clone,
    {
        let (chunk, found) = self.locate_by(cmp);
        let i = found.ok()?;
        let chunks = Arc::make_mut(&mut self.chunks);
        let entries = Arc::make_mut(&mut chunks[chunk].1);
        Some(Arc::make_mut(&mut entries[i].1))
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.get_by(|k| k.borrow().cmp(key))
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.get(key).is_some()
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q> + Clone,
        Q: Ord + ?Sized,
        V: Clone,
    {
        self.get_mut_by(|k| k.borrow().cmp(key))
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<Arc<V>>
    where
        K: Ord + Clone,
    {
        let (chunk, found) = self.locate_by(|k| k.cmp(&key));
        let chunks = Arc::make_mut(&mut self.chunks);
        if chunks.is_empty() {
            chunks.push((key.clone(), Arc::new(vec![(key, Arc::new(value))])));
            self.len = 1;
            return None;
        }
        let (first, entries) = &mut chunks[chunk];
        let entries = Arc::make_mut(entries);
        match found {
            Ok(i) => Some(std::mem::replace(&mut entries[i].1, Arc::new(value))),
            Err(i) => {
                if i == 0 {
                    // Only the first chunk can take a key below its first key.
                    *first = key.clone();
                }
                entries.insert(i, (key, Arc::new(value)));
                self.len += 1;
                if entries.len() > CHUNK_MAX {
                    let upper = entries.split_off(entries.len() / 2);
                    let upper_first = upper[0].0.clone();
                    chunks.insert(chunk + 1, (upper_first, Arc::new(upper)));
                }
                None
            }
        }
    }

    /// The value that `cmp` finds (`|k| k.cmp(wanted)`), inserted first as `make()` if absent: one
    /// search either way, and the key is only built (by `make`) when it is absent.
    pub fn get_or_insert_by(
        &mut self,
        cmp: impl Fn(&K) -> Ordering,
        make: impl FnOnce() -> (K, V),
    ) -> &mut V
    where
        K: Ord + Clone,
        V: Clone,
    {
        let (chunk, found) = self.locate_by(&cmp);
        if let Ok(i) = found {
            let chunks = Arc::make_mut(&mut self.chunks);
            let entries = Arc::make_mut(&mut chunks[chunk].1);
            return Arc::make_mut(&mut entries[i].1);
        }
        let (key, value) = make();
        debug_assert_eq!(
            cmp(&key),
            Ordering::Equal,
            "make() builds the key looked for"
        );
        self.insert(key, value);
        self.get_mut_by(cmp).expect("just inserted")
    }

    /// The value of `key`, inserted from `make` first if absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V
    where
        K: Ord + Clone,
        V: Clone,
    {
        if !self.contains_key(&key) {
            let value = make();
            self.insert(key.clone(), value);
        }
        self.get_mut(&key).expect("present: found or just inserted")
    }

    /// Applies `update` to every entry that `select` picks; only the chunks and values of picked
    /// entries are copied away from a snapshot.
    pub fn update_where(
        &mut self,
        mut select: impl FnMut(&K, &V) -> bool,
        mut update: impl FnMut(&K, &mut V),
    ) where
        K: Clone,
        V: Clone,
    {
        let picked: Vec<(usize, Vec<usize>)> = self
            .chunks
            .iter()
            .enumerate()
            .filter_map(|(c, (_, entries))| {
                let hits: Vec<usize> = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, (k, v))| select(k, v))
                    .map(|(i, _)| i)
                    .collect();
                (!hits.is_empty()).then_some((c, hits))
            })
            .collect();
        if picked.is_empty() {
            return;
        }
        let chunks = Arc::make_mut(&mut self.chunks);
        for (c, hits) in picked {
            let entries = Arc::make_mut(&mut chunks[c].1);
            for i in hits {
                let (k, v) = &mut entries[i];
                update(k, Arc::make_mut(v));
            }
        }
    }

    /// How many of this map's chunks are the very chunks of `other` (shared, not copied): a measure of
    /// structure sharing for tests and memory accounting.
    pub fn shared_chunks_with(&self, other: &Self) -> usize {
        let theirs: std::collections::HashSet<*const Chunk<K, V>> =
            other.chunks.iter().map(|(_, c)| Arc::as_ptr(c)).collect();
        self.chunks
            .iter()
            .filter(|(_, c)| theirs.contains(&Arc::as_ptr(c)))
            .count()
    }

    /// The number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }
}

/// Iterator over a [`SharedMap`] in key order.
pub struct Iter<'a, K, V> {
    chunks: std::slice::Iter<'a, (K, Arc<Chunk<K, V>>)>,
    current: std::slice::Iter<'a, (K, Arc<V>)>,
    remaining: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((k, v)) = self.current.next() {
                self.remaining -= 1;
                return Some((k, &**v));
            }
            self.current = self.chunks.next()?.1.iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

impl<'a, K, V> IntoIterator for &'a SharedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Ord + Clone, V> FromIterator<(K, V)> for SharedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SharedMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K, V, Q> std::ops::Index<&Q> for SharedMap<K, V>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key)
            .expect("no entry for this key in the SharedMap")
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for SharedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && (Arc::ptr_eq(&self.chunks, &other.chunks)
                || self.iter().zip(other.iter()).all(|(a, b)| a == b))
    }
}

impl<K: Eq, V: Eq> Eq for SharedMap<K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SharedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for SharedMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for entry in self.iter() {
            seq.serialize_element(&entry)?;
        }
        seq.end()
    }
}

impl<'de, K, V> Deserialize<'de> for SharedMap<K, V>
where
    K: Deserialize<'de> + Ord + Clone,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs<K, V>(std::marker::PhantomData<(K, V)>);

        impl<'de, K, V> Visitor<'de> for Pairs<K, V>
        where
            K: Deserialize<'de> + Ord + Clone,
            V: Deserialize<'de>,
        {
            type Value = SharedMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of [key, value] pairs")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut map = SharedMap::new();
                while let Some((k, v)) = seq.next_element::<(K, V)>()? {
                    if map.insert(k, v).is_some() {
                        return Err(serde::de::Error::custom("duplicate key in a SharedMap"));
                    }
                }
                Ok(map)
            }
        }

        deserializer.deserialize_seq(Pairs(std::marker::PhantomData))
    }
}

/// serde for an `Arc<T>` field, as `T` (serde's own `Arc` support needs its `rc` feature, which
/// the workspace does not enable): `#[serde(with = "shared::arc")]`.
pub mod arc {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &Arc<T>, s: S) -> Result<S::Ok, S::Error> {
        T::serialize(value, s)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<T>, D::Error> {
        T::deserialize(d).map(Arc::new)
    }
}

/// serde for a `Vec<Arc<T>>` field, as a sequence of `T`: `#[serde(with = "shared::arc_vec")]`.
pub mod arc_vec {
    use std::sync::Arc;

    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        values: &[Arc<T>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(values.len()))?;
        for value in values {
            seq.serialize_element(&**value)?;
        }
        seq.end()
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Arc<T>>, D::Error> {
        Ok(Vec::<T>::deserialize(d)?
            .into_iter()
            .map(Arc::new)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The map behaves like a `BTreeMap` through inserts, replacements and updates, in order, across
    /// many chunk splits.
    #[test]
    fn behaves_like_a_btreemap() {
        let mut shared = SharedMap::new();
        let mut plain = BTreeMap::new();
        // A fixed pseudo-random order (a multiplicative walk modulo a prime).
        let mut x: u64 = 7;
        for step in 0..2_000u64 {
            x = x * 48_271 % 2_147_483_647;
            let key = x % 700;
            shared.insert(key, step);
            plain.insert(key, step);
            if step % 5 == 0 {
                *shared.get_or_insert_with(key + 1, || 0) += 1;
                *plain.entry(key + 1).or_insert(0) += 1;
            }
        }
        shared.update_where(|k, _| k % 3 == 0, |_, v| *v += 1_000);
        for (k, v) in plain.iter_mut() {
            if k % 3 == 0 {
                *v += 1_000;
            }
        }
        assert_eq!(shared.len(), plain.len());
        assert!(shared.iter().map(|(k, v)| (*k, *v)).eq(plain.clone()));
        assert!(shared.chunk_count() > 10, "the test must split chunks");
        for key in 0..710 {
            assert_eq!(shared.get(&key), plain.get(&key), "key {key}");
        }
        let json = serde_json::to_string(&shared).unwrap();
        let back: SharedMap<u64, u64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, shared);
    }

    /// A clone is a snapshot: writes to the original never show in it, and only the touched chunk is
    /// copied (every other chunk stays shared).
    #[test]
    fn clones_are_isolated_snapshots_that_share_untouched_chunks() {
        let mut map: SharedMap<u32, String> = (0..1_000).map(|k| (k, k.to_string())).collect();
        let snapshot = map.clone();
        assert_eq!(map.shared_chunks_with(&snapshot), map.chunk_count());
        map.get_mut(&500).unwrap().push('!');
        map.insert(1_000, "new".into());
        assert_eq!(snapshot.get(&500).map(String::as_str), Some("500"));
        assert_eq!(snapshot.get(&1_000), None);
        assert_eq!(map.get(&500).map(String::as_str), Some("500!"));
        assert_eq!(
            map.shared_chunks_with(&snapshot),
            map.chunk_count() - 2,
            "only the chunks of 500 and of the new key are copied"
        );
    }

    /// The finger (the last key found, tried first) never answers wrongly: a key looked up again
    /// after inserts have moved it within its chunk, or split it into another, is still found with
    /// its own value, and a key that is absent is absent even right after a hit on its neighbour.
    #[test]
    fn the_finger_is_never_wrong_after_keys_move() {
        let mut map: SharedMap<u32, u32> = SharedMap::new();
        for round in 0..400u32 {
            // Keys arrive in decreasing order, so each insert shifts the ones looked up before.
            let key = 10_000 - 2 * round;
            map.insert(key, key + 1);
            assert_eq!(map.get(&key), Some(&(key + 1)));
            assert_eq!(
                map.get(&(key + 1)),
                None,
                "absent after a hit on its neighbour"
            );
            let first = 10_000;
            assert_eq!(map.get(&first), Some(&(first + 1)), "round {round}");
            assert_eq!(map.get_mut(&first).map(|v| *v), Some(first + 1));
            assert_eq!(map.get(&key), Some(&(key + 1)));
        }
        assert!(map.chunk_count() > 5, "the test must split chunks");
        for (k, v) in map.iter() {
            assert_eq!(*v, k + 1);
            assert_eq!(map.get(k), Some(v));
        }
    }
}
