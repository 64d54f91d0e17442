"""Caller identification: is this caller really who they say they are?

``passport`` signs and verifies STIR/SHAKEN PASSporTs (RFC 8224, 8225, 8226, 8588, 9795): the signed
call intents a telephone network attaches to a call so the far end can check the calling number.
"""
