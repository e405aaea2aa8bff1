"""Sealed addresses: the only form in which a resident's number rides in a queued job.

RQ keeps a job's arguments in Redis until it runs (a failed job longer), so a job that texts
someone must not carry the number in clear. The host seals the address with AES-GCM under a
key derived from SCREENER_SECRET; the worker opens it just before the send. A Redis dump
without the secret shows nothing, and a token that was tampered with does not open.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
# The same secret keys the contact hashes: a label of its own keeps this key apart from them.
_CONTEXT = b"sj-textline sealed address v1"
_NONCE_BYTES = 12


class SealError(ValueError):
    """A token that is not ours, was altered, or was sealed under another secret."""


def seal(secret: bytes | str, address: str) -> str:
    """`v1.<base64url(nonce + ciphertext + tag)>`; a fresh nonce each time."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(_bytes(secret)).encrypt(nonce, address.encode(), _CONTEXT)
    return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def open_sealed(secret: bytes | str, token: str) -> str:
    """The address inside `token`; SealError if it cannot be opened with this secret."""
    version, _, body = token.partition(".")
    if version != VERSION or not body:
        raise SealError("not a sealed address")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        opened = _cipher(_bytes(secret)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                                 _CONTEXT)
    except (InvalidTag, ValueError):
        raise SealError("the sealed address does not open with this secret") from None
    return opened.decode()


def _bytes(secret: bytes | str) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


@lru_cache(maxsize=4)
def _cipher(secret: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_CONTEXT).derive(secret)
    return AESGCM(key)
