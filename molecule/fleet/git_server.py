"""A git server for the fleet scenario: git's "dumb" HTTP protocol (static files of bare
repositories, after `git update-server-info`) behind basic authentication, so that the
preset's git credentials are exercised as with a real forge. Standard library only.

    GIT_TOKEN=... python3 git_server.py /srv/git 8080
"""

from __future__ import annotations

import base64
import functools
import hmac
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class Handler(SimpleHTTPRequestHandler):
    token = ""

    def do_GET(self) -> None:
        given = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"git:{self.token}".encode()).decode()
        if not hmac.compare_digest(given, expected):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        self.do_GET()


def main() -> None:
    root, port = sys.argv[1], int(sys.argv[2])
    Handler.token = os.environ["GIT_TOKEN"]
    handler = functools.partial(Handler, directory=root)
    ThreadingHTTPServer(("0.0.0.0", port), handler).serve_forever()


if __name__ == "__main__":
    main()
