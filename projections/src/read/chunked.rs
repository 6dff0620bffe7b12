//! [`Chunked`]: an append-only vector in fixed chunks of 65,536 elements, for the change log's
//! million-entry arrays. Unlike a `Vec` it never reallocates (no copy of the whole log and no
//! moment with two copies alive when it grows) and wastes at most one partly filled chunk instead
//! of up to half its capacity.

const SHIFT: u32 = 16;
const CHUNK: usize = 1 << SHIFT;
const MASK: usize = CHUNK - 1;

#[derive(Debug, Clone)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, value: T) {
        if self.len & MASK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room")
            .push(value);
        self.len += 1;
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index >> SHIFT)?.get(index & MASK)
    }

    pub fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    /// The index of the first element for which `pred` is false (`pred` must be true, then false,
    /// along the vector), like `slice::partition_point`.
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        let chunk = self
            .chunks
            .partition_point(|c| c.last().is_some_and(&mut pred));
        match self.chunks.get(chunk) {
            Some(c) => (chunk << SHIFT) + c.partition_point(pred),
            None => self.len,
        }
    }

    /// The elements at `lo..hi`, in order (reversible).
    pub fn range(&self, lo: usize, hi: usize) -> impl DoubleEndedIterator<Item = &T> + '_ {
        let hi = hi.min(self.len);
        let lo = lo.min(hi);
        let (first, last) = (lo >> SHIFT, hi.saturating_sub(1) >> SHIFT);
        let chunks = if lo == hi {
            &self.chunks[0..0]
        } else {
            &self.chunks[first..=last]
        };
        chunks.iter().enumerate().flat_map(move |(k, c)| {
            let base = (first + k) << SHIFT;
            let start = lo.saturating_sub(base).min(c.len());
            let end = (hi - base).min(c.len());
            c[start..end].iter()
        })
    }

    /// Heap bytes held (every chunk is allocated whole).
    pub fn heap_bytes(&self) -> usize {
        self.chunks.len() * CHUNK * std::mem::size_of::<T>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<T>>()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        &self.chunks[index >> SHIFT][index & MASK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Indexing, ranges (both ways), `last` and `partition_point` agree with a `Vec` across chunk
    /// boundaries.
    #[test]
    fn behaves_like_a_vec_across_chunks() {
        let mut chunked = Chunked::default();
        let mut plain = Vec::new();
        for i in 0..(2 * CHUNK + 17) as u64 {
            chunked.push(i * 3);
            plain.push(i * 3);
        }
        assert_eq!(chunked.len(), plain.len());
        assert_eq!(chunked.last(), plain.last());
        for probe in [0, 1, 5, CHUNK as u64 * 3 - 3, CHUNK as u64 * 3, 1 << 40] {
            assert_eq!(
                chunked.partition_point(|x| *x < probe),
                plain.partition_point(|x| *x < probe),
                "{probe}"
            );
        }
        for (lo, hi) in [
            (0, 0),
            (3, 9),
            (CHUNK - 2, CHUNK + 3),
            (5, 2 * CHUNK + 17),
            (7, 1 << 30),
        ] {
            let hi_plain = hi.min(plain.len());
            let lo_plain = lo.min(hi_plain);
            assert!(chunked.range(lo, hi).eq(plain[lo_plain..hi_plain].iter()));
            assert!(
                chunked
                    .range(lo, hi)
                    .rev()
                    .eq(plain[lo_plain..hi_plain].iter().rev())
            );
        }
        assert_eq!(chunked[CHUNK + 1], plain[CHUNK + 1]);
        assert_eq!(chunked.get(plain.len()), None);
    }
}
