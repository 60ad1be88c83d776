"""Write a local development .env with generated secrets, once (`make run` calls this)."""

from __future__ import annotations

import secrets
import sys

from cryptography.fernet import Fernet

from config import ROOT


def main() -> int:
    """Create .env beside the Makefile unless it exists; never overwrite secrets."""
    path = ROOT / ".env"
    if path.exists():
        return 0
    path.write_text(
        "# Local development settings, generated on first `make run`. Keep this file private.\n"
        f"SECRET_KEY={secrets.token_urlsafe(32)}\n"
        f"LINK_SIGNING_SECRETS={secrets.token_urlsafe(32)}\n"
        f"TOKEN_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
    )
    path.chmod(0o600)
    print(f"wrote {path.name} with new secrets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
