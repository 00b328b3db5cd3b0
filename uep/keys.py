"""The deployment's audit signing key: where it is, creating it for `uep dev`, its public half.

Production points ``UEP_SIGNING_KEY_FILE`` at a PKCS#8 PEM file (a mounted secret); `uep dev`
creates one under its state directory on first start. Only the archiver (tree heads) and
`uep audit export` / `uep audit checkpoint` need the private key; verifying needs the public key,
which `uep audit key` prints and every bundle names by fingerprint.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from eventstore.signing import (
    generate_key,
    load_private_key,
    load_public_key,
    public_key_from_hex,
    save_private_key,
    save_public_key,
)
from uep.settings import Settings

DEV_KEY = Path("keys") / "audit-signing-key.pem"
DEV_PUBLIC_KEY = Path("keys") / "audit-signing-key.pub.pem"


class KeyUnavailable(RuntimeError):
    """No usable signing or public key; the message says where it was looked for."""


def signing_key_path(config: Settings) -> Path:
    """``UEP_SIGNING_KEY_FILE``, else the dev stack's key under the state directory."""
    return config.signing_key_file or config.state_dir / DEV_KEY


def load_signing_key(config: Settings) -> Ed25519PrivateKey:
    """The deployment's private signing key."""
    path = signing_key_path(config)
    try:
        return load_private_key(path)
    except FileNotFoundError:
        raise KeyUnavailable(
            f"no signing key at {path}: set UEP_SIGNING_KEY_FILE, or start `uep dev` once to "
            "create the development key"
        ) from None
    except (OSError, ValueError, TypeError) as err:
        raise KeyUnavailable(f"cannot read the signing key {path}: {err}") from None


def ensure_dev_key(state_dir: Path) -> Path:
    """The dev stack's signing key under ``state_dir``, created (mode 0600) when missing."""
    path = state_dir / DEV_KEY
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        key = generate_key()
        save_private_key(key, path)
        save_public_key(key.public_key(), state_dir / DEV_PUBLIC_KEY, overwrite=True)
    return path


def trusted_public_key(config: Settings, given: str | None) -> Ed25519PublicKey:
    """``given`` (a PEM file or 64 hex digits), else the deployment's own key's public half."""
    if given is None:
        return load_signing_key(config).public_key()
    candidate = Path(given)
    try:
        if candidate.exists():
            return load_public_key(candidate)
        return public_key_from_hex(given.strip())
    except (OSError, ValueError, TypeError) as err:
        raise KeyUnavailable(
            f"--key {given}: neither a PEM public key file nor 64 hex digits ({err})"
        ) from None
