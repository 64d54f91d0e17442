"""STIR/SHAKEN: signed caller identity (RFC 8224, 8225, 8226, 8588, 9795), one room per job.

``jose``          base64url, canonical JSON, the compact JWS signing input, the ``x5u`` URL rule
``sip``           the SIP Identity header and canonical telephone numbers
``passport``      the PASSporT: claims, ``sign``, ``verify``
``fetch``         the allow-listed x5u certificate fetcher (with its cache), the trusted CAs
``verification``  the terminating side: an Identity header and the call's numbers in, ``verstat`` out

Certificates and signatures are ``postguard.crypto``'s (``es256``, ``x509``); nothing here imports a
cryptography library.
"""
