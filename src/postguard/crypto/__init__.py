"""Cryptographic kernels: the only modules that import a cryptography library.

Each module is small, pure (no I/O, no database, no settings) and typed; callers hold bytes or the
small wrappers defined here, never a library object:

* ``aead``         AES-256-GCM and the field ciphertext layout (padding, associated data, key ids)
* ``ed25519``      raw Ed25519 keys and signatures (access-log checkpoints, witness cosignatures)
* ``es256``        ECDSA P-256 with SHA-256 as JOSE uses it (PASSporTs, call-signing keys)
* ``x509``         certificate loading, chain validation, the RFC 8226 TNAuthList, self-signed issuing
* ``ristretto255`` the prime-order group of the private lookups' OPRF
* ``notes``        C2SP signed-note key names, key IDs and verifier keys (text formats, no library)
* ``passwords``    argon2id password hashing
* ``passphrase``   a secret sealed under a passphrase (scrypt and AES-256-GCM: the key file in a backup)

Layering: ``crypto`` imports nothing of postguard but ``postguard.errors``; ``vault`` and ``audit``
sit above it, the services above them (``tests/unit/test_layers.py`` enforces it).
"""
