"""The tamper-evident access log: an RFC 9162 Merkle tree (``merkle``) whose heads are published as
C2SP signed-note checkpoints (``checkpoint``)."""
