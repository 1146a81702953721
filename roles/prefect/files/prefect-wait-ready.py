"""Wait until a Prefect API server is ready (prefect-server.service's ExecStartPost=).

    prefect-wait-ready --timeout 120 http://127.0.0.1:4200/api/ready

GET /api/ready answers 200 once the server serves and reaches its database (the
check HAProxy uses too). Until then `systemctl start` does not return, so a
play that restarts the API servers one at a time restarts the next only when
this one serves again. Standard library only.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the server's /api/ready URL")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    last = "no answer"
    while True:
        try:
            with urllib.request.urlopen(args.url, timeout=5) as response:
                if response.status == 200:
                    return 0
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            last = str(getattr(error, "reason", error))
        if time.monotonic() >= deadline:
            print(f"{args.url} was not ready within {args.timeout:.0f} s: {last}", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
