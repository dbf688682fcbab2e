"""reliability.md T5, static rule (ASVS V11.2.4): no `==`, `!=`, `in` or `not in` on values
that look like secrets, digests, MACs, signatures, API key values, nonces or token hashes
anywhere in src/. Such values are compared with `hmac.compare_digest` (or
`secrets.compare_digest`), whose time does not depend on where the first difference is.

An operand is judged by its own name: a variable, an attribute, the function whose result it is
(`pepper.digest(x)`), or a string subscript (`claims["signature"]`). Names inside a larger
expression (`t.api_keys.c.id`) are not operands. False positives are allowed one by one below,
each with its reason; an allowance that no longer matches anything fails the test, so the list
cannot go stale.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "strongroom"

# Words that make a name secret-looking when they are one of its `_`-separated parts.
SECRET_PARTS = {
    "secret", "secrets", "digest", "digests", "mac", "hmac", "signature", "signatures",
    "apikey", "apikeys", "nonce", "nonces", "password", "passwords", "passphrase", "pepper",
    "otp", "hash", "hashed", "sealed", "plaintext", "unseal", "share", "shares",
}  # fmt: skip
# Compound names that are secret-looking wherever they appear in a name.
SECRET_COMPOUNDS = (
    "api_key_value", "apikey_value", "key_value", "token_hash", "refresh_token", "access_token",
    "client_secret", "check_value", "root_key", "private_key", "key_material", "payload",
)  # fmt: skip

# (file relative to src/strongroom, the comparison's source text) -> why it is not a timing leak.
ALLOWED = {
    (
        "api/routers/tokens.py",
        "grant == APIKEY_GRANT",
    ): "the grant type's public name, not an API key value",
    (
        "rootkey.py",
        "len(material) != ROOT_KEY_BYTES",
    ): "the length of the key material against the public key size",
    (
        "store/sql/repos.py",
        "k.c.value_digest == digest",
    ): "a SQL WHERE clause built by SQLAlchemy, not a Python comparison: the index lookup by a "
    "peppered HMAC the caller cannot steer; the match is then confirmed with compare_digest "
    "(rootkey.Pepper.matches)",
    (
        "store/sql/server_repos.py",
        "r.c.digest == digest",
    ): "a SQL WHERE clause (refresh tokens by peppered HMAC), confirmed with compare_digest",
    (
        "store/sql/audit_repos.py",
        "h.c.mac == ''",
    ): "a SQL WHERE clause finding audit heads not yet signed (migration 0013): the empty "
    "string, no secret; signatures are checked with compare_digest (audit/chain.HeadSigner)",
}

COMPARES = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def operand_name(node: ast.expr) -> str | None:
    """The name a comparison operand goes by, if it has one."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return operand_name(node.func)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return operand_name(node.value)
    return None


def secret_looking(name: str) -> bool:
    low = name.lower()
    parts = set(re.split(r"[_\W]+", low))
    return bool(parts & SECRET_PARTS) or any(c in low for c in SECRET_COMPOUNDS)


def findings(root: Path) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, COMPARES) for op in node.ops):
                continue
            names = [operand_name(o) for o in (node.left, *node.comparators)]
            if any(n is not None and secret_looking(n) for n in names):
                where = (path.relative_to(root).as_posix(), ast.unparse(node))
                found[where] = node.lineno
    return found


def test_the_rule_catches_what_it_is_for(tmp_path: Path) -> None:
    """The rule is not vacuous: each shape of leak in a planted module is found."""
    (tmp_path / "planted.py").write_text(
        "def f(a, b, claims, pepper, sent_mac, expected, nonces, sig_b64):\n"
        "    x = a.signature == b\n"
        "    y = pepper.digest(a) != b\n"
        "    z = claims['signature'] == b\n"
        "    w = sent_mac == expected\n"
        "    v = a in nonces\n"
        "    u = b.token_hash not in a\n"
        "    ok = a.name == b.name\n"  # not secret-looking: not reported
        "    return x, y, z, w, v, u, ok\n"
    )
    assert sorted(findings(tmp_path)) == sorted(
        [
            ("planted.py", "a.signature == b"),
            ("planted.py", "pepper.digest(a) != b"),
            ("planted.py", "claims['signature'] == b"),
            ("planted.py", "sent_mac == expected"),
            ("planted.py", "a in nonces"),
            ("planted.py", "b.token_hash not in a"),
        ]
    )


def test_no_secret_is_compared_with_equality_in_src() -> None:
    found = findings(SRC)
    leaks = {where: line for where, line in found.items() if where not in ALLOWED}
    assert not leaks, "compare these with hmac.compare_digest:\n" + "\n".join(
        f"  src/strongroom/{path}:{line}: {text}" for (path, text), line in leaks.items()
    )
    stale = [where for where in ALLOWED if where not in found]
    assert not stale, f"allowances that match nothing any more: {stale}"
