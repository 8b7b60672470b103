"""The stand-in LeerID for `make run`: oidc-provider-mock (from PyPI) with the demo pupils.

    python -m demo.leerid [--port 9400] [--host 127.0.0.1]

Its issuer is taken from the request's Host header, so i-Learn must use the same address
(``LEERID_ISSUER=http://127.0.0.1:9400``). Its ID tokens carry no ``kid``; i-Learn accepts
that because the JWKS holds exactly one key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def provider_command(port: int, host: str) -> list[str]:
    """The oidc-provider-mock command line with every demo pupil as a predefined user."""
    from demo.pupils import DEMO_PUPILS

    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--host", host]
    for pupil in DEMO_PUPILS:
        command += ["--user-claims", json.dumps({"sub": pupil.sub, **pupil.leerid_claims()})]
    return command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9400)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    command = provider_command(args.port, args.host)
    os.execv(command[0], command)  # noqa: S606 - our own interpreter, fixed arguments


if __name__ == "__main__":
    main()
