"""Staff accounts: who may sign in to /staff, and with which role.

Accounts come from the environment, `STAFF_USERS`: `name:role:hash` entries separated by
commas, roles `admin`, `staff` or `navigator`. Hashes are made by `screener staff-hash`
(Werkzeug's scrypt, the standard library's `hashlib.scrypt` underneath), so no password is
ever stored or configured in clear. There is no default account: with none configured, /staff
says how to make one (`screener run` makes a local one on a laptop).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("admin", "staff", "navigator")
# What each role may open (admin everything): navigators work cases, staff see the rest.
ALLOWED = {"admin": {"dashboard", "simulator", "flow", "cases", "flyers"},
           "staff": {"dashboard", "simulator", "flow", "flyers"},
           "navigator": {"cases", "simulator"}}
# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
_DECOY = generate_password_hash("not a password", method="scrypt")


class AccountsError(ValueError):
    """STAFF_USERS cannot be read; the message says which entry and why, never a hash."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str

    def may(self, area: str) -> bool:
        return area in ALLOWED[self.role]


def make_hash(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def parse_accounts(text: str | None) -> dict[str, Account]:
    """The accounts of a STAFF_USERS value (empty: none)."""
    accounts: dict[str, Account] = {}
    for number, entry in enumerate((text or "").split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise AccountsError(f"STAFF_USERS entry {number} is not name:role:hash")
        name, role, password_hash = parts
        if role not in ROLES:
            raise AccountsError(f"STAFF_USERS entry {number} ({name}): role '{role}' is not "
                                f"one of {', '.join(ROLES)}")
        if not password_hash.startswith(("scrypt:", "pbkdf2:")):
            raise AccountsError(f"STAFF_USERS entry {number} ({name}): the hash is not one "
                                "`screener staff-hash` makes")
        if name in accounts:
            raise AccountsError(f"STAFF_USERS entry {number}: the name '{name}' is used twice")
        accounts[name] = Account(name, role, password_hash)
    return accounts


def check(accounts: dict[str, Account], name: str, password: str) -> Account | None:
    """The account when the password is right; None otherwise, in about the same time."""
    account = accounts.get(name)
    right = check_password_hash(account.password_hash if account else _DECOY, password)
    return account if account and right and hmac.compare_digest(account.name, name) else None
