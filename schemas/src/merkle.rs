//! The transparency-log Merkle tree over the global log, and its inclusion and consistency proofs.
//!
//! The construction is the one of RFC 6962 §2.1 and RFC 9162 §2.1 (Certificate Transparency), with
//! SHA-256, so that an auditor can check the ledger with any implementation of those RFCs. This module
//! holds the tree ([`MerkleTree`]), the proofs it produces ([`InclusionProof`], [`ConsistencyProof`])
//! and the verification functions an auditor runs with nothing but a proof and two hashes
//! ([`verify_inclusion`], [`verify_consistency`]). Signing a root is [`crate::checkpoint`]'s business;
//! storing the tree is the program's.
//!
//! # The tree, byte for byte
//!
//! The leaves are the events of the global log in log order: leaf `i` (counting from 0) is the event
//! at position `i + 1`, and a tree of size `n` covers exactly the events at positions `1..=n`. The
//! *leaf data* is the event's 32-byte `hash` (see [`crate::integrity`]), so the tree commits to every
//! byte of every event and to the chain between them. With `SHA-256` as `HASH` and `||` for
//! concatenation, the Merkle Tree Hash `MTH` of a list of leaf data `D[0:n]` is
//!
//! ```text
//! MTH({})       = HASH()                                  the empty tree: SHA-256 of no bytes,
//!                                                         e3b0c442…7852b855 (EMPTY_ROOT)
//! MTH({d})      = HASH(0x00 || d)                         a leaf hash: 0x00 then the 32 bytes of d
//! MTH(D[0:n])   = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  for n > 1, where k is the largest
//!                                                         power of two smaller than n (k < n <= 2k)
//! ```
//!
//! The one-byte prefixes keep a leaf from ever being taken for an interior node (second-preimage
//! protection). The root of a log of size `n` is `MTH(D[0:n])`; it is what a checkpoint signs.
//!
//! # Inclusion proofs (RFC 9162 §2.1.3)
//!
//! The inclusion proof for leaf `m` in a tree of size `n` is the list `PATH(m, D[0:n])` of the
//! sibling hashes from the leaf up to the root, nearest first:
//!
//! ```text
//! PATH(0, {d})     = {}
//! PATH(m, D[0:n])  = PATH(m, D[0:k])     : MTH(D[k:n])   if m < k
//! PATH(m, D[0:n])  = PATH(m - k, D[k:n]) : MTH(D[0:k])   if m >= k
//! ```
//!
//! To verify it (RFC 9162 §2.1.3.2, [`verify_inclusion`]) given the leaf hash `h`, `m`, `n` and the
//! claimed root: fail if `m >= n`; set `fn = m`, `sn = n - 1`, `r = h`; for each `p` in the path:
//! fail if `sn = 0` (path too long); if `fn` is odd or `fn = sn`, set `r = HASH(0x01 || p || r)` and
//! then, if `fn` is even, shift `fn` and `sn` right together until `fn` is odd or zero; otherwise set
//! `r = HASH(0x01 || r || p)`; then shift `fn` and `sn` right once. At the end `sn` must be 0 (else
//! the path is too short) and `r` must equal the root. A correct path has exactly
//! `bitlen(m XOR (n - 1)) + popcount(m >> bitlen(m XOR (n - 1)))` hashes.
//!
//! # Consistency proofs (RFC 9162 §2.1.4)
//!
//! The consistency proof between sizes `0 < m < n` shows that the log of size `m` is a prefix of the
//! log of size `n`: `PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true)` with
//!
//! ```text
//! SUBPROOF(m, D[0:m], true)  = {}
//! SUBPROOF(m, D[0:m], false) = {MTH(D[0:m])}
//! SUBPROOF(m, D[0:n], b)     = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          if m <= k
//! SUBPROOF(m, D[0:n], b)     = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  if m > k
//! ```
//!
//! The proof for `m = n` and for `m = 0` is empty (any log extends itself and the empty log).
//! To verify (RFC 9162 §2.1.4.2, [`verify_consistency`]): fail if the path is empty; if `m` is a power
//! of two, prepend the old root to the path; set `fn = m - 1`, `sn = n - 1`; while `fn` is odd shift
//! `fn` and `sn` right together; set `fr` and `sr` to the first path element; for each further `c`:
//! fail if `sn = 0`; if `fn` is odd or `fn = sn`, set `fr = HASH(0x01 || c || fr)`,
//! `sr = HASH(0x01 || c || sr)` and then, if `fn` is even, shift both right until `fn` is odd or zero;
//! otherwise set `sr = HASH(0x01 || sr || c)`; then shift both right once. At the end `sn` must be 0,
//! `fr` must equal the old root and `sr` the new root.
//!
//! # JSON
//!
//! Proofs travel as `{"leaf_index": 5, "tree_size": 8, "path": ["<64 hex digits>", ...]}` and
//! `{"old_size": 6, "new_size": 8, "path": [...]}`, every hash as 64 lowercase hex digits, the path in
//! the RFC's order (nearest the leaf first). `leaf_index` counts from 0: the event at position `p` is
//! leaf `p - 1`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::integrity::Digest;

/// `MTH({})`, the root of the empty log: SHA-256 of no bytes.
pub const EMPTY_ROOT: Digest = Digest([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// The leaf hash `SHA-256(0x00 || data)`. For the ledger's leaves `data` is an event's 32-byte hash
/// (`leaf_hash(&event.hash.0)`); any bytes are accepted so that the RFC's own test vectors apply.
pub fn leaf_hash(data: &[u8]) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    Digest(hasher.finalize().into())
}

/// The interior node hash `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.0);
    hasher.update(right.0);
    Digest(hasher.finalize().into())
}

/// Why a tree could not answer: the question is about leaves or sizes it does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error(
        "树大小 {size} 超过日志当前的 {tree_size} 个事件 (tree size {size} was asked for, but the log holds only {tree_size} events)"
    )]
    SizeBeyondTree { size: u64, tree_size: u64 },
    #[error(
        "叶序号 {index} 不在大小为 {size} 的树中 (leaf index {index} is not in a tree of size {size}; leaf indices run from 0 to size - 1, leaf i being the event at position i + 1)"
    )]
    IndexOutOfRange { index: u64, size: u64 },
    #[error(
        "旧树大小 {old_size} 大于新树大小 {new_size} (old size {old_size} is larger than new size {new_size}; a consistency proof goes from a smaller log to a larger one)"
    )]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error(
        "第 {level} 层有 {found} 个节点，大小为 {tree_size} 的树应有 {expected} 个 (level {level} holds {found} nodes, but a tree of size {tree_size} has {expected} there)"
    )]
    MalformedLevels {
        level: usize,
        tree_size: u64,
        expected: u64,
        found: u64,
    },
}

/// Why a proof was refused. Every variant names the sizes involved so that the message can be shown
/// to an auditor as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error(
        "叶序号 {index} 不在大小为 {size} 的树中 (leaf index {index} is not in a tree of size {size})"
    )]
    IndexOutOfRange { index: u64, size: u64 },
    #[error(
        "旧树大小 {old_size} 大于新树大小 {new_size} (old size {old_size} is larger than new size {new_size}: the log did not grow, it shrank)"
    )]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error(
        "证明路径过长：有 {found} 个哈希，应为 {expected} 个 (proof path too long: {found} hashes where {expected} were expected)"
    )]
    PathTooLong { expected: u64, found: u64 },
    #[error(
        "证明路径过短：有 {found} 个哈希，应为 {expected} 个 (proof path too short: {found} hashes where {expected} were expected)"
    )]
    PathTooShort { expected: u64, found: u64 },
    #[error(
        "由证明算出的根 {computed} 与给定的根 {expected} 不符 (the proof leads to root {computed}, not to the given root {expected}): 该叶不在此树中，或证明、序号、树大小有误 (the leaf is not in this tree, or the proof, index or size is wrong)"
    )]
    RootMismatch { expected: Digest, computed: Digest },
    #[error(
        "由证明算出的大小为 {old_size} 的旧根 {computed} 与给定的 {expected} 不符 (the proof leads to old root {computed} for size {old_size}, not to the given {expected})"
    )]
    OldRootMismatch {
        old_size: u64,
        expected: Digest,
        computed: Digest,
    },
    #[error(
        "由证明算出的大小为 {new_size} 的新根 {computed} 与给定的 {expected} 不符 (the proof leads to new root {computed} for size {new_size}, not to the given {expected}): 新日志不是旧日志的延续 (the newer log does not extend the older one)"
    )]
    NewRootMismatch {
        new_size: u64,
        expected: Digest,
        computed: Digest,
    },
    #[error(
        "同为大小 {size} 的两个根不同：{old_root} 与 {new_root} (two different roots for the same size {size}: {old_root} and {new_root}); 日志已分叉 (the log has forked)"
    )]
    SameSizeRootsDiffer {
        size: u64,
        old_root: Digest,
        new_root: Digest,
    },
}

/// An inclusion proof: the event at position `leaf_index + 1` is in the log of size `tree_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InclusionProof {
    /// The leaf's index, from 0: the event at global position `leaf_index + 1`.
    pub leaf_index: u64,
    /// The size of the tree whose root the proof leads to.
    pub tree_size: u64,
    /// `PATH(leaf_index, D[0:tree_size])`, nearest the leaf first.
    pub path: Vec<Digest>,
}

impl InclusionProof {
    /// Checks that an event whose hash is `event_hash` is this proof's leaf in the tree with `root`.
    pub fn verify(&self, event_hash: &Digest, root: &Digest) -> Result<(), ProofError> {
        verify_inclusion(
            event_hash,
            self.leaf_index,
            self.tree_size,
            &self.path,
            root,
        )
    }
}

/// A consistency proof: the log of size `old_size` is a prefix of the log of size `new_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    /// `PROOF(old_size, D[0:new_size])` in the RFC's order; empty when the sizes are equal or
    /// `old_size` is 0.
    pub path: Vec<Digest>,
}

impl ConsistencyProof {
    /// Checks that the log with `old_root` at `old_size` is a prefix of the one with `new_root`.
    pub fn verify(&self, old_root: &Digest, new_root: &Digest) -> Result<(), ProofError> {
        verify_consistency(self.old_size, self.new_size, old_root, new_root, &self.path)
    }
}

/// The number of hashes in a correct inclusion path for `index` in a tree of `size` (`index < size`).
pub fn inclusion_path_len(index: u64, size: u64) -> u64 {
    debug_assert!(index < size);
    // Below the level where the paths to `index` and to the last leaf part, every level contributes
    // one sibling; above it, only the levels where `index` lies in a right-hand subtree do.
    let inner = u64::from(64 - (index ^ (size - 1)).leading_zeros());
    let border = u64::from((index.checked_shr(inner as u32).unwrap_or(0)).count_ones());
    inner + border
}

/// The number of hashes in a correct consistency path from `old_size` to `new_size`.
pub fn consistency_path_len(old_size: u64, new_size: u64) -> u64 {
    debug_assert!(old_size <= new_size);
    if old_size == 0 || old_size == new_size {
        return 0;
    }
    // The proof is the inclusion path of the largest perfect subtree ending at `old_size`, seen as a
    // leaf of the tree of nodes at its level, preceded by that node unless it is the whole old tree.
    let level = old_size.trailing_zeros();
    let index = (old_size - 1) >> level;
    let nodes = ((new_size - 1) >> level) + 1;
    inclusion_path_len(index, nodes) + u64::from(index != 0)
}

/// Computes the root that an inclusion path leads to from `leaf_hash` (the RFC 9162 §2.1.3.2
/// algorithm without the final comparison). The leaf hash is `leaf_hash(&event_hash.0)`.
pub fn root_from_inclusion_path(
    leaf_hash: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
) -> Result<Digest, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_path_len(index, size);
    check_len(expected, path.len())?;
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in path {
        if snode == 0 {
            return Err(too_long(expected, path.len()));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(too_short(expected, path.len()));
    }
    Ok(r)
}

/// Verifies that the event with hash `event_hash` is leaf `index` (the event at position
/// `index + 1`) of the log of size `size` whose root is `root`, by RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    event_hash: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> Result<(), ProofError> {
    verify_inclusion_of_leaf_hash(&leaf_hash(&event_hash.0), index, size, path, root)
}

/// As [`verify_inclusion`], for a caller that holds the leaf hash rather than the leaf data.
pub fn verify_inclusion_of_leaf_hash(
    leaf_hash: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_path(leaf_hash, index, size, path)?;
    if computed != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed,
        });
    }
    Ok(())
}

/// Verifies that the log of size `old_size` with root `old_root` is a prefix of the log of size
/// `new_size` with root `new_root`, by RFC 9162 §2.1.4.2, plus the trivial cases: equal sizes need
/// equal roots and an empty path; size 0 needs the empty root and an empty path.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    path: &[Digest],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    let expected = consistency_path_len(old_size, new_size);
    check_len(expected, path.len())?;
    if old_size == new_size {
        if old_root != new_root {
            return Err(ProofError::SameSizeRootsDiffer {
                size: old_size,
                old_root: *old_root,
                new_root: *new_root,
            });
        }
        return Ok(());
    }
    if old_size == 0 {
        if *old_root != EMPTY_ROOT {
            return Err(ProofError::OldRootMismatch {
                old_size,
                expected: *old_root,
                computed: EMPTY_ROOT,
            });
        }
        return Ok(());
    }

    // RFC 9162 §2.1.4.2, steps 1 to 7.
    let prepend = old_size.is_power_of_two().then_some(old_root);
    let mut nodes = prepend.into_iter().chain(path.iter());
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let Some(first) = nodes.next() else {
        return Err(too_short(expected, path.len()));
    };
    let (mut fr, mut sr) = (*first, *first);
    for c in nodes {
        if snode == 0 {
            return Err(too_long(expected, path.len()));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(too_short(expected, path.len()));
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch {
            old_size,
            expected: *old_root,
            computed: fr,
        });
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch {
            new_size,
            expected: *new_root,
            computed: sr,
        });
    }
    Ok(())
}

fn check_len(expected: u64, found: usize) -> Result<(), ProofError> {
    let found = found as u64;
    if found > expected {
        Err(ProofError::PathTooLong { expected, found })
    } else if found < expected {
        Err(ProofError::PathTooShort { expected, found })
    } else {
        Ok(())
    }
}

fn too_long(expected: u64, found: usize) -> ProofError {
    ProofError::PathTooLong {
        expected,
        found: found as u64,
    }
}

fn too_short(expected: u64, found: usize) -> ProofError {
    ProofError::PathTooShort {
        expected,
        found: found as u64,
    }
}

/// The append-only Merkle tree over the global log, answering for the current size and every past
/// one.
///
/// It stores the hash of every *perfect* subtree (2^k consecutive leaves starting at a multiple of
/// 2^k), level by level: level 0 holds the `n` leaf hashes, level `k` the `n >> k` hashes of the
/// perfect subtrees of 2^k leaves, in order. Every range the RFC's recursion visits splits into at most
/// one stored node per level, so [`root`](Self::root) of any size, [`inclusion_proof`](Self::inclusion_proof)
/// and [`consistency_proof`](Self::consistency_proof) read O(log n) stored nodes and compute O(log n)
/// hashes, and [`push`](Self::push) computes one leaf hash and on average one node hash.
///
/// Memory: `n + n/2 + n/4 + … < 2n` hashes of 32 bytes, under `2·n·32` bytes (64 MB for a million
/// events), plus up to as much again of spare vector capacity while growing by `push`;
/// [`from_leaf_hashes`](Self::from_leaf_hashes) allocates exactly.
///
/// Persisting: [`levels`](Self::levels) exports the levels as they are and
/// [`from_levels`](Self::from_levels) imports them (checking their shape, not their hashes), or the
/// tree is rebuilt from the leaf hashes or from the event hashes in O(n).
#[derive(Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[k]` holds `len >> k` nodes; there are `max(1, bitlen(len))` levels.
    levels: Vec<Vec<Digest>>,
}

impl Default for MerkleTree {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MerkleTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerkleTree")
            .field("size", &self.len())
            .field("root", &self.current_root())
            .finish()
    }
}

impl MerkleTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new()],
        }
    }

    /// Builds the tree over events given by their hashes, in log order.
    pub fn from_event_hashes<'a>(event_hashes: impl IntoIterator<Item = &'a Digest>) -> Self {
        Self::from_leaf_hashes(
            event_hashes
                .into_iter()
                .map(|hash| leaf_hash(&hash.0))
                .collect(),
        )
    }

    /// Builds the tree over the given leaf hashes (`SHA-256(0x00 || data)` each), in O(n).
    pub fn from_leaf_hashes(leaves: Vec<Digest>) -> Self {
        let mut levels = vec![leaves];
        loop {
            let below = levels.last().expect("level 0 exists");
            if below.len() < 2 {
                break;
            }
            let above: Vec<Digest> = below
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        Self { levels }
    }

    /// Takes levels exported by [`levels`](Self::levels), checking that they have the shape of a tree
    /// (level `k` holds `len >> k` nodes) but not recomputing their hashes: compare
    /// [`current_root`](Self::current_root) with a signed checkpoint before trusting them, or rebuild
    /// with [`from_leaf_hashes`](Self::from_leaf_hashes).
    pub fn from_levels(mut levels: Vec<Vec<Digest>>) -> Result<Self, TreeError> {
        if levels.is_empty() {
            levels.push(Vec::new());
        }
        let size = levels[0].len() as u64;
        let wanted_levels = (64 - size.leading_zeros()).max(1) as usize;
        for level in 0..levels.len().max(wanted_levels) {
            let expected = if level < wanted_levels {
                size >> level
            } else {
                0
            };
            let found = levels.get(level).map_or(0, |nodes| nodes.len() as u64);
            if found != expected {
                return Err(TreeError::MalformedLevels {
                    level,
                    tree_size: size,
                    expected,
                    found,
                });
            }
        }
        levels.truncate(wanted_levels);
        Ok(Self { levels })
    }

    /// The stored levels: `levels()[0]` are the leaf hashes, `levels()[k][i]` is the root of the
    /// perfect subtree over leaves `i·2^k .. (i+1)·2^k`.
    pub fn levels(&self) -> &[Vec<Digest>] {
        &self.levels
    }

    /// The leaf hashes, in log order.
    pub fn leaf_hashes(&self) -> &[Digest] {
        &self.levels[0]
    }

    /// The number of leaves: the position of the last event covered.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// Appends the next event of the log, given by its hash. Returns the new size.
    pub fn push(&mut self, event_hash: &Digest) -> u64 {
        self.push_leaf_hash(leaf_hash(&event_hash.0))
    }

    /// Appends a leaf given by its leaf hash. Returns the new size.
    pub fn push_leaf_hash(&mut self, leaf: Digest) -> u64 {
        self.levels[0].push(leaf);
        // A level whose length has just become even has completed a pair, whose parent goes one
        // level up; that parent may in turn complete a pair.
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let nodes = &self.levels[level];
            let parent = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        self.len()
    }

    /// Forgets every leaf from index `size` on (for a store whose append was rolled back).
    pub fn truncate(&mut self, size: u64) {
        if size >= self.len() {
            return;
        }
        let wanted_levels = (64 - size.leading_zeros()).max(1) as usize;
        self.levels.truncate(wanted_levels);
        for (level, nodes) in self.levels.iter_mut().enumerate() {
            nodes.truncate((size >> level) as usize);
        }
    }

    /// The leaf hash of leaf `index`.
    pub fn leaf_hash(&self, index: u64) -> Option<Digest> {
        self.levels[0].get(usize::try_from(index).ok()?).copied()
    }

    /// The root of the tree over the first `size` leaves, for any `size` up to the current one.
    pub fn root(&self, size: u64) -> Result<Digest, TreeError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(EMPTY_ROOT);
        }
        Ok(self.range_hash(0, size as usize))
    }

    /// The root of the whole tree.
    pub fn current_root(&self) -> Digest {
        self.root(self.len())
            .expect("the current size is within the tree")
    }

    /// The inclusion proof of leaf `index` in the tree of size `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, TreeError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let m = index as usize;
        let (mut start, mut end) = (0usize, size as usize);
        let mut path = Vec::with_capacity(inclusion_path_len(index, size) as usize);
        // Walk down from the root, taking at each split the sibling of the side that holds `m`;
        // the path lists them from the leaf up, so it is reversed at the end.
        while end - start > 1 {
            let k = split_point(end - start);
            if m < start + k {
                path.push(self.range_hash(start + k, end));
                end = start + k;
            } else {
                path.push(self.range_hash(start, start + k));
                start += k;
            }
        }
        path.reverse();
        Ok(InclusionProof {
            leaf_index: index,
            tree_size: size,
            path,
        })
    }

    /// The consistency proof from the tree of size `old_size` to the tree of size `new_size`.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, TreeError> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(TreeError::SizesOutOfOrder { old_size, new_size });
        }
        let mut path = Vec::with_capacity(consistency_path_len(old_size, new_size) as usize);
        if old_size > 0 && old_size < new_size {
            let m = old_size as usize;
            let (mut start, mut end) = (0usize, new_size as usize);
            // `whole` is SUBPROOF's `b`: whether the current subtree is the whole old tree's root
            // path, in which case the old root itself is not part of the proof.
            let mut whole = true;
            loop {
                if m == end {
                    if !whole {
                        path.push(self.range_hash(start, end));
                    }
                    break;
                }
                let k = split_point(end - start);
                if m <= start + k {
                    path.push(self.range_hash(start + k, end));
                    end = start + k;
                } else {
                    path.push(self.range_hash(start, start + k));
                    start += k;
                    whole = false;
                }
            }
            path.reverse();
        }
        Ok(ConsistencyProof {
            old_size,
            new_size,
            path,
        })
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.len() {
            return Err(TreeError::SizeBeyondTree {
                size,
                tree_size: self.len(),
            });
        }
        Ok(())
    }

    /// `MTH` of leaves `start..end`, for a range the RFC's recursion visits: `start` is a multiple of
    /// the smallest power of two not below `end - start`. Such a range is the concatenation of
    /// perfect subtrees, one per set bit of its length, largest first, each aligned, so it is their
    /// stored roots folded from the right.
    fn range_hash(&self, start: usize, end: usize) -> Digest {
        debug_assert!(start < end && end <= self.levels[0].len());
        debug_assert_eq!(start % (end - start).next_power_of_two(), 0);
        let mut remaining = end - start;
        let mut piece_end = end;
        let mut acc: Option<Digest> = None;
        while remaining > 0 {
            let width = remaining & remaining.wrapping_neg();
            let piece_start = piece_end - width;
            let level = width.trailing_zeros() as usize;
            let piece = self.levels[level][piece_start >> level];
            acc = Some(match acc {
                None => piece,
                Some(right) => node_hash(&piece, &right),
            });
            piece_end = piece_start;
            remaining -= width;
        }
        acc.expect("a non-empty range has at least one piece")
    }
}

/// The largest power of two smaller than `n` (`n >= 2`): the RFC's split point.
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split point is the RFC's (largest power of two below n), not the midpoint.
    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (7, 4),
            (8, 4),
            (9, 8),
            (1000, 512),
        ] {
            assert_eq!(split_point(n), k, "n = {n}");
        }
    }

    /// `EMPTY_ROOT` is SHA-256 of no bytes.
    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, Digest(Sha256::digest([]).into()));
        assert_eq!(MerkleTree::new().current_root(), EMPTY_ROOT);
    }

    /// Pushing one leaf at a time builds the same levels as building from all leaves at once.
    #[test]
    fn push_builds_the_same_levels_as_from_leaf_hashes() {
        let mut tree = MerkleTree::new();
        let mut leaves = Vec::new();
        for i in 0..70u8 {
            let leaf = leaf_hash(&[i]);
            leaves.push(leaf);
            tree.push_leaf_hash(leaf);
            assert_eq!(
                tree,
                MerkleTree::from_leaf_hashes(leaves.clone()),
                "size {}",
                i + 1
            );
        }
    }

    /// Truncating gives the tree that was built up to that size, level by level.
    #[test]
    fn truncate_gives_the_prefix_tree() {
        let leaves: Vec<Digest> = (0..37u8).map(|i| leaf_hash(&[i])).collect();
        for size in 0..=leaves.len() {
            let mut tree = MerkleTree::from_leaf_hashes(leaves.clone());
            tree.truncate(size as u64);
            assert_eq!(tree, MerkleTree::from_leaf_hashes(leaves[..size].to_vec()));
        }
    }

    /// Levels round-trip through export and import, and a malformed shape is refused naming the level.
    #[test]
    fn levels_round_trip_and_shape_is_checked() {
        let tree = MerkleTree::from_leaf_hashes((0..13u8).map(|i| leaf_hash(&[i])).collect());
        let back = MerkleTree::from_levels(tree.levels().to_vec()).unwrap();
        assert_eq!(back, tree);
        assert_eq!(
            MerkleTree::from_levels(Vec::new()).unwrap(),
            MerkleTree::new()
        );

        let mut bad = tree.levels().to_vec();
        bad[2].pop();
        assert_eq!(
            MerkleTree::from_levels(bad).unwrap_err(),
            TreeError::MalformedLevels {
                level: 2,
                tree_size: 13,
                expected: 3,
                found: 2
            }
        );
        let mut extra = tree.levels().to_vec();
        extra.push(vec![EMPTY_ROOT]);
        assert!(matches!(
            MerkleTree::from_levels(extra),
            Err(TreeError::MalformedLevels { level: 4, .. })
        ));
    }
}
