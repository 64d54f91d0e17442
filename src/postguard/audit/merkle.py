"""RFC 9162 (Certificate Transparency 2.0) Merkle trees, SHA-256: pure functions, no I/O.

Hashing (RFC 9162 §2.1.1)::

    MTH({})      = SHA-256()                       the empty tree
    leaf hash    = SHA-256(0x00 || data)
    node hash    = SHA-256(0x01 || left || right)
    MTH(D[n])    = node(MTH(D[0:k]), MTH(D[k:n]))   k = the largest power of two smaller than n

Three layers:

* ``leaf_hash``, ``node_hash``, ``root``, ``inclusion_proof``, ``consistency_proof``: the RFC's
  recursive reference algorithms over a list of leaf hashes, written to be obviously correct (O(n)).
* ``verify_inclusion`` and ``verify_consistency``: the RFC's verification algorithms (§2.1.3.2 and
  §2.1.4.2). They take keyword arguments only and answer ``True`` or ``False``; they never raise,
  whatever they are given (wrong types, negative or huge numbers, hashes that are not 32 bytes,
  proofs of the wrong length).
* ``MerkleTree``: an append-only tree for a large log. It keeps every level of complete subtrees, so
  an append costs amortised O(1) hashes and the root, an inclusion proof or a consistency proof for
  *any* historical size costs O(log n) hashes.

Policy for the edge cases the RFC leaves open (as in the C2SP/CCTV vectors): consistency from size
0 is valid only with an empty proof and the empty-tree root as the old root (the new root must
still be a 32-byte hash); equal sizes need an empty proof and equal roots; tree sizes are uint64.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import TypeGuard

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_TREE_SIZE = (1 << 64) - 1  # RFC 9162: tree sizes are uint64
_MAX_CONSISTENCY_PROOF = 128  # no proof for a uint64 tree is longer than 2 × 64 hashes

_sha256 = hashlib.sha256
_LEAF = b"\x00"
_NODE = b"\x01"

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "MerkleTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]


# --- hashing -------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("leaf data must be bytes")
    return _sha256(_LEAF + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right), both children 32-byte hashes."""
    if not (_is_hash(left) and _is_hash(right)):
        raise ValueError("node children must be 32-byte hashes")
    return _sha256(_NODE + left + right).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> TypeGuard[bytes]:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_leaf_hashes(leaf_hashes: Sequence[bytes]) -> list[bytes]:
    hashes = list(leaf_hashes)
    for h in hashes:
        if not _is_hash(h):
            raise ValueError("leaf hashes must be 32-byte hashes")
    return hashes


# --- reference algorithms (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1) ---------------------------------


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes (reference algorithm, O(n) hashes)."""
    return _mth(_check_leaf_hashes(leaf_hashes))


def _mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return d[0]
    k = _split(n)
    return _node(_mth(d[:k]), _mth(d[k:]))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]): the audit path of leaf ``index`` in the tree of all ``leaf_hashes``."""
    d = _check_leaf_hashes(leaf_hashes)
    if not _is_size(index) or not 0 <= index < len(d):
        raise ValueError("leaf index out of range")
    return _path(index, d)


def _path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return _path(m, d[:k]) + [_mth(d[k:])]
    return _path(m - k, d[k:]) + [_mth(d[:k])]


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) over the first ``size2`` of ``leaf_hashes``; empty when size1 is 0."""
    d = _check_leaf_hashes(leaf_hashes)
    if not (_is_size(size1) and _is_size(size2)) or not 0 <= size1 <= size2 <= len(d):
        raise ValueError("tree sizes out of range")
    if size1 == 0 or size1 == size2:
        return []
    return _subproof(size1, d[:size2], True)


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [_mth(d)]
    k = _split(n)
    if m <= k:
        return _subproof(m, d[:k], b) + [_mth(d[k:])]
    return _subproof(m - k, d[k:], False) + [_mth(d[:k])]


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2); never raises ------------------------------------


def _proof_ok(proof: object, max_len: int) -> TypeGuard[Sequence[bytes]]:
    return (
        isinstance(proof, (list, tuple))
        and len(proof) <= max_len
        and all(_is_hash(p) for p in proof)
    )


def verify_inclusion(*, leaf_hash: bytes, index: int, tree_size: int, proof: list[bytes],
                     root: bytes) -> bool:
    """True iff ``proof`` shows that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size``
    leaves whose root is ``root``. Any malformed input gives False."""
    try:
        return _verify_inclusion(leaf_hash, index, tree_size, proof, root)
    except Exception:  # the contract is a bool, whatever the caller passed
        return False


def _verify_inclusion(leaf: object, index: object, tree_size: object, proof: object,
                      expected: object) -> bool:
    if not (_is_size(index) and _is_size(tree_size)):
        return False
    index, tree_size = int(index), int(tree_size)
    if not 0 <= index < tree_size <= MAX_TREE_SIZE:
        return False
    if not (_is_hash(leaf) and _is_hash(expected)):
        return False
    # The proof length is fixed by (index, tree_size): the levels where the paths to the leaf and
    # to the last leaf differ, plus the left siblings above the point where they meet.
    inner = (index ^ (tree_size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    if not _proof_ok(proof, inner + border) or len(proof) != inner + border:
        return False
    fn, sn, r = index, tree_size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, expected)


def verify_consistency(*, size1: int, size2: int, proof: list[bytes], root1: bytes,
                       root2: bytes) -> bool:
    """True iff ``proof`` shows that the tree of ``size1`` leaves with root ``root1`` is a prefix
    of the tree of ``size2`` leaves with root ``root2``. Any malformed input gives False."""
    try:
        return _verify_consistency(size1, size2, proof, root1, root2)
    except Exception:  # the contract is a bool, whatever the caller passed
        return False


def _verify_consistency(size1: object, size2: object, proof: object, root1: object,
                        root2: object) -> bool:
    if not (_is_size(size1) and _is_size(size2)):
        return False
    size1, size2 = int(size1), int(size2)
    if not 0 <= size1 <= size2 <= MAX_TREE_SIZE:
        return False
    if not (_is_hash(root1) and _is_hash(root2)):
        return False
    if not _proof_ok(proof, _MAX_CONSISTENCY_PROOF):
        return False
    if size1 == size2:
        return len(proof) == 0 and hmac.compare_digest(root1, root2)
    if size1 == 0:
        return len(proof) == 0 and hmac.compare_digest(root1, EMPTY_ROOT)
    if len(proof) == 0:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # the old tree is a complete subtree: its root starts the path
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)


# --- the append-only tree --------------------------------------------------------------------------


class MerkleTree:
    """An append-only RFC 9162 tree that answers for every size it has ever had.

    ``_levels[i]`` holds, packed 32 bytes apiece, the hashes of the complete aligned subtrees of
    2**i leaves (level 0 = the leaf hashes), about 2 × 32 × n bytes in all. Every node of the
    RFC tree of any size m <= n is either such a complete subtree (a lookup) or lies on the right
    edge of that tree, which is recomputed from O(log m) lookups. So ``root``, ``inclusion_proof``
    and ``consistency_proof`` cost O(log n) hashes for any historical size, and ``append`` costs
    amortised one node hash.

    The results are those of the reference functions of this module, hash for hash.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Build from stored leaf hashes in log order (e.g. the rows of a log table)."""
        hashes = list(leaf_hashes)
        for i, h in enumerate(hashes):
            if not _is_hash(h):
                raise ValueError(f"leaf hash {i} is not a 32-byte hash")
        if len(hashes) > MAX_TREE_SIZE:
            raise ValueError("too many leaves")
        self._size = len(hashes)
        below = bytearray().join(hashes)
        del hashes
        self._levels: list[bytearray] = [below]
        # Build each level from the one below in a single pass: one node hash per pair.
        sha, prefix, pair = _sha256, _NODE, 2 * HASH_SIZE
        while len(below) >= pair:
            end = len(below) // pair * pair
            below = bytearray().join([sha(prefix + below[o:o + pair]).digest() for o in range(0, end, pair)])
            self._levels.append(below)

    # -- growing --

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; return its index."""
        if not _is_hash(leaf_hash):
            raise ValueError("leaf hash must be a 32-byte hash")
        if self._size >= MAX_TREE_SIZE:
            raise ValueError("tree is full")
        levels = self._levels
        levels[0] += leaf_hash
        index = self._size
        self._size = n = index + 1
        level = 0
        while not n & 1:  # the new node completed a pair at this level: hash it one level up
            node = _sha256(_NODE + levels[level][-2 * HASH_SIZE:]).digest()
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node
            n >>= 1
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes at once: level by level, each new complete node hashed once."""
        hashes = list(leaf_hashes)
        for h in hashes:
            if not _is_hash(h):
                raise ValueError("leaf hash must be a 32-byte hash")
        if self._size + len(hashes) > MAX_TREE_SIZE:
            raise ValueError("tree is full")
        if not hashes:
            return
        levels = self._levels
        levels[0] += b"".join(hashes)
        self._size = n = self._size + len(hashes)
        sha, prefix, pair = _sha256, _NODE, 2 * HASH_SIZE
        level = 0
        while n >> (level + 1):
            if level + 1 == len(levels):
                levels.append(bytearray())
            below, above = levels[level], levels[level + 1]
            have, want = len(above) // HASH_SIZE, n >> (level + 1)
            if have == want:
                break  # nothing new completed here, so nothing above either
            above += b"".join([sha(prefix + below[o:o + pair]).digest()
                               for o in range(have * pair, want * pair, pair)])
            level += 1

    # -- reading --

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        if not _is_size(index) or not 0 <= index < self._size:
            raise ValueError("leaf index out of range")
        return self._block(0, index)

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` leaves (default: all of them)."""
        size = self._check_size(size)
        return self._range_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        size = self._check_size(size)
        if not _is_size(index) or not 0 <= index < size:
            raise ValueError("leaf index out of range")
        # Walk down from the root; collect each sibling, then return them leaf-first.
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            mid = start + k
            if index < mid:
                proof.append(self._range_hash(mid, end))
                end = mid
            else:
                proof.append(self._range_hash(start, mid))
                start = mid
        proof.reverse()
        return proof

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2``."""
        size2 = self._check_size(size2)
        if not _is_size(size1) or not 0 <= size1 <= size2:
            raise ValueError("tree sizes out of range")
        if size1 == 0 or size1 == size2:
            return []
        # SUBPROOF(m, D[start:end], b), unrolled from the root down.
        proof: list[bytes] = []
        start, end, m, b = 0, size2, size1, True
        while m != end - start:
            k = _split(end - start)
            mid = start + k
            if m <= k:
                proof.append(self._range_hash(mid, end))
                end = mid
            else:
                proof.append(self._range_hash(start, mid))
                start, m, b = mid, m - k, False
        if not b:
            proof.append(self._range_hash(start, end))
        proof.reverse()
        return proof

    # -- internals --

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not _is_size(size) or not 0 <= size <= self._size:
            raise ValueError("tree size out of range")
        return size

    def _block(self, level: int, index: int) -> bytes:
        off = index * HASH_SIZE
        return bytes(self._levels[level][off:off + HASH_SIZE])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a node of an RFC tree: ``start`` is a multiple of every power of
        two not larger than ``end - start``. Complete subtrees are lookups; a ragged right edge
        is folded from its complete left parts, O(log n) hashes."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        lefts: list[bytes] = []
        while n & (n - 1):  # not a power of two: peel off the complete left subtree
            k = _split(n)
            level = k.bit_length() - 1
            lefts.append(self._block(level, start >> level))
            start += k
            n -= k
        level = n.bit_length() - 1
        h = self._block(level, start >> level)
        for left in reversed(lefts):
            h = _node(left, h)
        return h

    def __repr__(self) -> str:
        return f"MerkleTree(size={self._size})"
