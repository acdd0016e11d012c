"""Encryption at rest (AES-GCM) and keyed lookup hashes for ID and card numbers.

Both keys derive from HUINONG_DATA_KEY, so a dump of the database alone reveals neither the
numbers nor, by brute force over the small ID space, which row holds a given person.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DataCipher:
    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != 32:
            raise ValueError("data key must be 32 bytes")
        self._aead = AESGCM(hmac.new(data_key, b"huinong/encrypt", hashlib.sha256).digest())
        # Keyed once: copying a keyed HMAC skips the key's padding and two hash setups on each of
        # the registry's two lookups per household (a national import hashes 58 million numbers).
        self._lookup = hmac.new(
            hmac.new(data_key, b"huinong/lookup", hashlib.sha256).digest(), digestmod=hashlib.sha256
        )
        self._pin_key = hmac.new(data_key, b"huinong/pin", hashlib.sha256).digest()
        self._key_check = hmac.new(data_key, b"huinong/key-check", hashlib.sha256).digest()

    @property
    def key_check(self) -> bytes:
        """An HMAC of a constant under the data key: tells keys apart, reveals nothing of the key.
        Stored in the database at first start (db/migrations/0014) and in a backup's manifest."""
        return self._key_check

    def encrypt(self, plaintext: str, *, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), context)

    def decrypt(self, blob: bytes, *, context: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], context).decode()

    def lookup_hash(self, value: str, *, context: bytes) -> bytes:
        keyed = self._lookup.copy()
        keyed.update(context + b"\x00" + value.encode())
        return keyed.digest()

    def pin_hash(self, household_no: str, pin: str) -> bytes:
        # A six-digit PIN falls to any offline guesser whatever the hash's cost; a keyed hash
        # under the data key plus login throttling is what actually protects it.
        return hmac.new(self._pin_key, f"{household_no}\x00{pin}".encode(), hashlib.sha256).digest()

    def pin_matches(self, household_no: str, pin: str, stored: bytes | None) -> bool:
        if stored is None:
            return False
        return hmac.compare_digest(self.pin_hash(household_no, pin), stored)


ID_CONTEXT = b"id_number"
CARD_CONTEXT = b"bank_account"
PHONE_CONTEXT = b"phone"
