"""RFC 9162 Merkle trees: conformance vectors (read in place from ../shared/testdata/merkle), the fast
tree against the reference algorithms, and the verifiers against mutations and garbage."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard.audit import merkle as m

DATA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "merkle"
CCTV = DATA / "rgdd-cctv-merkle" / "testdata"
REFERENCE_8 = DATA / "rfc6962-reference-tree-8.json"

# Distinct leaves: with duplicate leaves a proof for one index can honestly verify for another.
LEAVES = [m.leaf_hash(b"access-log entry %d" % i) for i in range(320)]
TREE = m.MerkleTree(LEAVES)


def _b64(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


def _json(path: Path):
    if not path.is_file():
        pytest.skip(f"conformance data absent: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def _cases(name: str) -> list:
    path = CCTV / name
    if not path.is_file():
        return [pytest.param(None, id="absent")]
    return [pytest.param(c, id=str(i)) for i, c in enumerate(json.loads(path.read_text(encoding="utf-8")))]


def _need(case) -> None:
    if case is None:
        pytest.skip(f"conformance data absent: {CCTV}")


def _cctv_leaves() -> list[bytes]:
    return [_b64(e["leaf_hash"]) for e in _json(CCTV / "merkle_tree.json")]


def _flip(h: bytes, byte: int, bit: int) -> bytes:
    b = bytearray(h)
    b[byte % len(b)] ^= 1 << bit
    return bytes(b)


# --- hashing and the empty tree ------------------------------------------------------------------


def test_hash_definitions():
    assert m.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert m.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = m.leaf_hash(b"a"), m.leaf_hash(b"b")
    assert m.node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert m.root([]) == m.MerkleTree().root() == m.EMPTY_ROOT
    assert m.root([a]) == m.MerkleTree([a]).root() == a
    with pytest.raises(TypeError):
        m.leaf_hash("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        m.node_hash(a, b[:31])


# --- the classic 8-leaf reference tree (transparency-dev/merkle testonly) ------------------------


def test_reference_tree_8_leaves_nodes_and_roots():
    ref = _json(REFERENCE_8)
    data = [bytes.fromhex(x) for x in ref["leafInputsHex"]]
    leaves = [m.leaf_hash(d) for d in data]
    levels = [[bytes.fromhex(x) for x in level] for level in ref["nodeHashesByLevel"]]
    roots = [bytes.fromhex(x) for x in ref["rootHashesBySize"]]
    assert leaves == levels[0]
    for level, hashes in enumerate(levels):
        width = 1 << level
        for j, node in enumerate(hashes):
            block = leaves[j * width:(j + 1) * width]
            assert m.root(block) == node
            assert m.MerkleTree(block).root() == node
    tree = m.MerkleTree(leaves)
    for size, expected in enumerate(roots):
        assert m.root(leaves[:size]) == expected
        assert tree.root(size) == expected
        assert m.MerkleTree(leaves[:size]).root() == expected


def test_reference_tree_8_every_generated_proof_verifies():
    ref = _json(REFERENCE_8)
    leaves = [m.leaf_hash(bytes.fromhex(x)) for x in ref["leafInputsHex"]]
    roots = [bytes.fromhex(x) for x in ref["rootHashesBySize"]]
    tree = m.MerkleTree(leaves)
    checked = 0
    for size in range(len(roots)):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == m.inclusion_proof(leaves[:size], index)
            assert m.verify_inclusion(leaf_hash=leaves[index], index=index, tree_size=size, proof=proof,
                                      root=roots[size])
            checked += 1
        for size1 in range(size + 1):
            proof = tree.consistency_proof(size1, size)
            assert proof == m.consistency_proof(leaves, size1, size)
            assert m.verify_consistency(size1=size1, size2=size, proof=proof, root1=roots[size1],
                                        root2=roots[size])
            checked += 1
    assert checked == 36 + 45


def test_rfc9162_section_2_1_5_examples():
    """The worked examples of RFC 9162 §2.1.5, on the first 7 leaves of the reference tree:

    hash = node(k, l); k = node(g, h); l = node(i, j); g = (a, b); h = (c, d); i = (e, f); j = d6.
    """
    ref = _json(REFERENCE_8)
    levels = [[bytes.fromhex(x) for x in level] for level in ref["nodeHashesByLevel"]]
    roots = [bytes.fromhex(x) for x in ref["rootHashesBySize"]]
    a, b, c, d, e, f, j = levels[0][:7]
    g, h, i = levels[1][:3]
    k = levels[2][0]
    l = m.node_hash(i, j)  # noqa: E741  RFC 9162's node names
    assert m.node_hash(k, l) == roots[7]
    tree = m.MerkleTree(levels[0][:7])
    assert tree.inclusion_proof(0) == [b, h, l]
    assert tree.inclusion_proof(3) == [c, g, l]
    assert tree.inclusion_proof(4) == [f, j, k]
    assert tree.inclusion_proof(6) == [i, k]
    assert tree.consistency_proof(3) == [c, d, g, l]
    assert tree.consistency_proof(4) == [l]
    assert tree.consistency_proof(6) == [i, j, k]
    for size1 in (3, 4, 6):
        assert m.verify_consistency(size1=size1, size2=7, proof=tree.consistency_proof(size1), root1=roots[size1],
                                    root2=roots[7])
        assert not m.verify_consistency(size1=size1, size2=7, proof=tree.consistency_proof(size1),
                                        root1=roots[size1 - 1], root2=roots[7])


# --- C2SP/CCTV vectors (rgdd) ---------------------------------------------------------------------


def test_cctv_tree_heads():
    heads = _json(CCTV / "merkle_tree.json")
    leaves = []
    grown = m.MerkleTree()
    for size, head in enumerate(heads, start=1):
        leaf = m.leaf_hash(head["leaf_data"].encode("utf-8"))
        assert leaf == _b64(head["leaf_hash"])
        leaves.append(leaf)
        assert grown.append(leaf) == size - 1
        expected = _b64(head["root_hash"])
        assert m.root(leaves) == expected
        assert grown.root() == expected
    bulk = m.MerkleTree(leaves)
    assert [bulk.root(n) for n in range(len(leaves) + 1)] == [grown.root(n) for n in range(len(leaves) + 1)]


@pytest.mark.parametrize("case", _cases("inclusion-valid.json"))
def test_cctv_inclusion_valid(case):
    _need(case)
    proof = [_b64(p) for p in case["inclusion_path"]]
    assert m.verify_inclusion(leaf_hash=_b64(case["leaf_hash"]), index=case["leaf_index"],
                              tree_size=case["tree_size"], proof=proof, root=_b64(case["root_hash"]))
    # Generation: our proofs are the expected ones, from the tree of the vectors' leaves.
    tree = m.MerkleTree(_cctv_leaves())
    assert tree.inclusion_proof(case["leaf_index"], case["tree_size"]) == proof
    assert tree.root(case["tree_size"]) == _b64(case["root_hash"])


@pytest.mark.parametrize("case", _cases("inclusion-invalid.json"))
def test_cctv_inclusion_invalid(case):
    _need(case)
    assert not m.verify_inclusion(leaf_hash=_b64(case["leaf_hash"]), index=case["leaf_index"],
                                  tree_size=case["tree_size"], proof=[_b64(p) for p in case["inclusion_path"]],
                                  root=_b64(case["root_hash"])), case["comment"]


@pytest.mark.parametrize("case", _cases("consistency-valid.json"))
def test_cctv_consistency_valid(case):
    _need(case)
    proof = [_b64(p) for p in case["consistency_path"]]
    assert m.verify_consistency(size1=case["old_size"], size2=case["new_size"], proof=proof,
                                root1=_b64(case["old_root"]), root2=_b64(case["new_root"]))
    tree = m.MerkleTree(_cctv_leaves())
    assert tree.consistency_proof(case["old_size"], case["new_size"]) == proof
    assert tree.root(case["old_size"]) == _b64(case["old_root"])
    assert tree.root(case["new_size"]) == _b64(case["new_root"])


@pytest.mark.parametrize("case", _cases("consistency-invalid.json"))
def test_cctv_consistency_invalid(case):
    _need(case)
    assert not m.verify_consistency(size1=case["old_size"], size2=case["new_size"],
                                    proof=[_b64(p) for p in case["consistency_path"]],
                                    root1=_b64(case["old_root"]), root2=_b64(case["new_root"])), case["comment"]


def test_cctv_vectors_reject_hashes_that_are_not_32_bytes():
    case = _json(CCTV / "inclusion-valid.json")[-1]
    kwargs = dict(leaf_hash=_b64(case["leaf_hash"]), index=case["leaf_index"], tree_size=case["tree_size"],
                  proof=[_b64(p) for p in case["inclusion_path"]], root=_b64(case["root_hash"]))
    assert m.verify_inclusion(**kwargs)
    for key in ("leaf_hash", "root"):
        assert not m.verify_inclusion(**{**kwargs, key: kwargs[key] + b"\x00"})
        assert not m.verify_inclusion(**{**kwargs, key: kwargs[key][:31]})
    assert not m.verify_inclusion(**{**kwargs, "proof": kwargs["proof"][:-1] + [kwargs["proof"][-1] + b"\x00"]})


# --- the fast tree equals the reference, exhaustively for small trees ----------------------------


def test_tree_matches_reference_exhaustively_up_to_48():
    n_max = 48
    leaves = LEAVES[:n_max]
    tree = m.MerkleTree(leaves)
    for size in range(n_max + 1):
        r = tree.root(size)
        assert r == m.root(leaves[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == m.inclusion_proof(leaves[:size], index)
            assert m.verify_inclusion(leaf_hash=leaves[index], index=index, tree_size=size, proof=proof, root=r)
        for size1 in range(size + 1):
            proof = tree.consistency_proof(size1, size)
            assert proof == m.consistency_proof(leaves, size1, size)
            assert m.verify_consistency(size1=size1, size2=size, proof=proof, root1=tree.root(size1), root2=r)


def test_appending_equals_building_in_bulk():
    grown = m.MerkleTree()
    for i, leaf in enumerate(LEAVES[:100]):
        assert grown.append(leaf) == i
        assert grown.size == len(grown) == i + 1
        assert grown.root() == TREE.root(i + 1)
    grown.extend(LEAVES[100:])
    assert grown.size == TREE.size
    assert grown._levels == TREE._levels  # the same stored levels, hash for hash
    assert m.MerkleTree(iter(LEAVES)).root() == TREE.root()  # any iterable, e.g. rows in log order
    assert TREE.leaf(7) == LEAVES[7]


@given(st.lists(st.integers(0, 40), max_size=12), st.booleans())
def test_extending_in_chunks_equals_appending_one_by_one(chunks, append_first):
    tree = m.MerkleTree()
    at = 0
    if append_first:
        tree.append(LEAVES[0])
        at = 1
    for n in chunks:
        n = min(n, len(LEAVES) - at)
        tree.extend(LEAVES[at:at + n])
        at += n
        assert tree.size == at
    assert tree._levels == m.MerkleTree(LEAVES[:at])._levels  # every stored node, hash for hash
    assert tree.root() == m.root(LEAVES[:at])


def test_extend_refuses_bad_hashes_and_changes_nothing():
    tree = m.MerkleTree(LEAVES[:5])
    with pytest.raises(ValueError):
        tree.extend([LEAVES[5], b"short"])
    assert tree._levels == m.MerkleTree(LEAVES[:5])._levels


def test_tree_refuses_bad_arguments():
    with pytest.raises(ValueError, match="leaf hash 1 "):
        m.MerkleTree([LEAVES[0], b"short"])
    tree = m.MerkleTree(LEAVES[:10])
    for bad in (None, "x" * 32, b"\x00" * 31, bytearray(32)):
        with pytest.raises(ValueError):
            tree.append(bad)  # type: ignore[arg-type]
    assert tree.size == 10
    with pytest.raises(ValueError):
        tree.root(11)
    with pytest.raises(ValueError):
        tree.inclusion_proof(10)
    with pytest.raises(ValueError):
        tree.inclusion_proof(3, 3)
    with pytest.raises(ValueError):
        tree.inclusion_proof(-1)
    with pytest.raises(ValueError):
        tree.consistency_proof(5, 4)
    with pytest.raises(ValueError):
        tree.consistency_proof(5, 11)
    with pytest.raises(ValueError):
        tree.leaf(10)
    with pytest.raises(ValueError):
        m.inclusion_proof(LEAVES[:3], 3)
    with pytest.raises(ValueError):
        m.consistency_proof(LEAVES[:3], 2, 4)


# --- properties: proofs verify, and every mutation is refused ------------------------------------


def _shape(index: int, size: int) -> list[bool]:
    """Which side each sibling is on, root first, read off the RFC's recursive split."""
    if size == 1:
        return []
    k = 1 << ((size - 1).bit_length() - 1)
    return [False] + _shape(index, k) if index < k else [True] + _shape(index - k, size - k)


@st.composite
def _size_and_index(draw):
    size = draw(st.integers(1, 300))
    return size, draw(st.integers(0, size - 1))


@given(_size_and_index(), st.integers(0, 31), st.integers(0, 7), st.data())
def test_inclusion_proofs_verify_and_mutations_fail(si, byte, bit, data):
    size, index = si
    leaf, root = LEAVES[index], TREE.root(size)
    proof = TREE.inclusion_proof(index, size)
    assert proof == m.inclusion_proof(LEAVES[:size], index)
    assert m.MerkleTree(LEAVES[:size]).inclusion_proof(index) == proof

    def ok(**change) -> bool:
        kw = dict(leaf_hash=leaf, index=index, tree_size=size, proof=proof, root=root)
        kw.update(change)
        return m.verify_inclusion(**kw)

    assert ok()
    assert ok(proof=tuple(proof))
    assert not ok(leaf_hash=_flip(leaf, byte, bit))
    assert not ok(root=_flip(root, byte, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        assert not ok(proof=proof[:at] + [_flip(proof[at], byte, bit)] + proof[at + 1:])
        assert not ok(proof=proof[:-1])
    assert not ok(proof=proof + [LEAVES[0]])
    assert not ok(index=index + 1)
    assert not ok(index=index - 1)
    for other in (size - 1, size + 1):
        if index < other <= len(LEAVES):
            # With the real root of the other size, the old proof passes only if it is that size's proof.
            assert ok(tree_size=other, root=TREE.root(other)) == (TREE.inclusion_proof(index, other) == proof)
            # With this root, a proof binds the root, not the size (the signed checkpoint binds that):
            # it passes exactly when both sizes put the leaf's siblings on the same sides.
            assert ok(tree_size=other) == (_shape(index, other) == _shape(index, size))


@st.composite
def _two_sizes(draw):
    size2 = draw(st.integers(0, 300))
    return draw(st.integers(0, size2)), size2


@given(_two_sizes(), st.integers(0, 31), st.integers(0, 7), st.data())
def test_consistency_proofs_verify_and_mutations_fail(sizes, byte, bit, data):
    size1, size2 = sizes
    root1, root2 = TREE.root(size1), TREE.root(size2)
    proof = TREE.consistency_proof(size1, size2)
    assert proof == m.consistency_proof(LEAVES, size1, size2)
    assert m.MerkleTree(LEAVES[:size2]).consistency_proof(size1) == proof

    def ok(**change) -> bool:
        kw = dict(size1=size1, size2=size2, proof=proof, root1=root1, root2=root2)
        kw.update(change)
        return m.verify_consistency(**kw)

    assert ok()
    assert not ok(root1=_flip(root1, byte, bit))
    if size1 == 0 and size2 > 0:
        assert ok(root2=_flip(root2, byte, bit))  # policy: from the empty tree any new root is consistent
    else:
        assert not ok(root2=_flip(root2, byte, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        assert not ok(proof=proof[:at] + [_flip(proof[at], byte, bit)] + proof[at + 1:])
        assert not ok(proof=proof[:-1])
    assert not ok(proof=proof + [LEAVES[0]])
    for other in (size1 - 1, size1 + 1):
        assert not ok(size1=other)
    for other in (size2 - 1, size2 + 1):
        if size1 <= other <= len(LEAVES):
            # With the real root of the other size, the old proof passes only if it is that size's proof.
            assert ok(size2=other, root2=TREE.root(other)) == (TREE.consistency_proof(size1, other) == proof)


def test_consistency_edge_policy():
    empty, r5 = m.EMPTY_ROOT, TREE.root(5)
    assert m.verify_consistency(size1=0, size2=0, proof=[], root1=empty, root2=empty)
    assert m.verify_consistency(size1=0, size2=5, proof=[], root1=empty, root2=r5)
    assert not m.verify_consistency(size1=0, size2=5, proof=[LEAVES[0]], root1=empty, root2=r5)
    assert not m.verify_consistency(size1=0, size2=5, proof=[], root1=r5, root2=r5)
    assert not m.verify_consistency(size1=0, size2=5, proof=[], root1=empty, root2=r5[:31])
    assert not m.verify_consistency(size1=0, size2=0, proof=[], root1=empty, root2=r5)
    assert m.verify_consistency(size1=5, size2=5, proof=[], root1=r5, root2=r5)
    assert not m.verify_consistency(size1=5, size2=5, proof=[LEAVES[0]], root1=r5, root2=r5)
    assert not m.verify_consistency(size1=5, size2=5, proof=[], root1=r5, root2=TREE.root(6))
    assert not m.verify_consistency(size1=6, size2=5, proof=[], root1=r5, root2=r5)
    assert not m.verify_consistency(size1=3, size2=5, proof=[], root1=TREE.root(3), root2=r5)


# --- garbage in, False out, never an exception ---------------------------------------------------

_GOOD_INCLUSION = dict(leaf_hash=LEAVES[3], index=3, tree_size=7, proof=TREE.inclusion_proof(3, 7),
                       root=TREE.root(7))
_GOOD_CONSISTENCY = dict(size1=3, size2=7, proof=TREE.consistency_proof(3, 7), root1=TREE.root(3),
                         root2=TREE.root(7))
_GARBAGE = [None, "", "abc", "x" * 32, b"", b"\x00" * 31, b"\x00" * 33, bytearray(32), memoryview(bytes(32)),
            -1, 0, 2**64, 2**200, -(2**200), 1.5, float("nan"), True, False, [], [None], ["a" * 32],
            [b"\x00" * 31], [bytearray(32)], [b"\x00" * 32] * 1000, {"a": 1}, object(), (b"\x00" * 32,),
            iter([LEAVES[0]]), {LEAVES[0]}]


@pytest.mark.parametrize("garbage", _GARBAGE, ids=lambda g: type(g).__name__)
@pytest.mark.parametrize("field", sorted(_GOOD_INCLUSION))
def test_verify_inclusion_garbage_is_false(field, garbage):
    assert m.verify_inclusion(**_GOOD_INCLUSION)
    result = m.verify_inclusion(**{**_GOOD_INCLUSION, field: garbage})
    assert result is False


@pytest.mark.parametrize("garbage", _GARBAGE, ids=lambda g: type(g).__name__)
@pytest.mark.parametrize("field", sorted(_GOOD_CONSISTENCY))
def test_verify_consistency_garbage_is_false(field, garbage):
    assert m.verify_consistency(**_GOOD_CONSISTENCY)
    result = m.verify_consistency(**{**_GOOD_CONSISTENCY, field: garbage})
    assert result is False


class _Evil:
    """Raises from every operation a careless verifier might try."""

    def __len__(self):
        raise RuntimeError("boom")

    def __iter__(self):
        raise RuntimeError("boom")

    def __index__(self):
        raise RuntimeError("boom")

    def __eq__(self, other):
        raise RuntimeError("boom")

    __hash__ = object.__hash__


def test_verifiers_survive_hostile_objects():
    for field in _GOOD_INCLUSION:
        assert m.verify_inclusion(**{**_GOOD_INCLUSION, field: _Evil()}) is False
    for field in _GOOD_CONSISTENCY:
        assert m.verify_consistency(**{**_GOOD_CONSISTENCY, field: _Evil()}) is False


def test_verifiers_are_keyword_only():
    with pytest.raises(TypeError):
        m.verify_inclusion(LEAVES[3], 3, 7, [], TREE.root(7))  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.verify_consistency(3, 7, [], TREE.root(3), TREE.root(7))  # type: ignore[misc]


def test_huge_sizes_are_handled_without_raising():
    top = m.MAX_TREE_SIZE
    proof = [LEAVES[0]] * 64
    assert m.verify_inclusion(leaf_hash=LEAVES[1], index=top - 1, tree_size=top, proof=proof, root=LEAVES[2]) is False
    assert m.verify_inclusion(leaf_hash=LEAVES[1], index=top, tree_size=top + 1, proof=proof, root=LEAVES[2]) is False
    assert m.verify_consistency(size1=top - 1, size2=top, proof=proof, root1=LEAVES[1], root2=LEAVES[2]) is False
    assert m.verify_consistency(size1=1, size2=top + 1, proof=proof, root1=LEAVES[1], root2=LEAVES[2]) is False


_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40) | st.binary(max_size=40)
    | st.sampled_from(LEAVES[:4] + [m.EMPTY_ROOT]),
    lambda inner: st.lists(inner, max_size=6) | st.tuples(inner, inner),
    max_leaves=12,
)


@given(_anything, _anything, _anything, _anything, _anything)
def test_verifiers_never_raise_on_arbitrary_input(a, b, c, d, e):
    assert isinstance(m.verify_inclusion(leaf_hash=a, index=b, tree_size=c, proof=d, root=e), bool)
    assert isinstance(m.verify_consistency(size1=a, size2=b, proof=c, root1=d, root2=e), bool)
