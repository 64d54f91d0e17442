"""Did my operator really send this? Operators' registered message templates and the keyed digests
of the notifications they sent (``service.py``), matched against a message a person pastes; and the
COD rule: a transfer "for COD", a fee or a refund to an account that is no operator's registered COD
account (``cod.py``)."""
