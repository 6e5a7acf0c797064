#!/usr/bin/env python3
"""One client tries to start N conversations as fast as it can over one keep-alive connection,
and reports how many were accepted, how many refused (429), and the server's resident memory
before and after (read from /proc, so run it on the server's machine).

    scripts/flood-create.py http://127.0.0.1:8080 SERVER_PID 100000
"""
import http.client
import sys
import time
from urllib.parse import urlparse


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    url, pid, count = urlparse(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    connection = http.client.HTTPConnection(url.hostname, url.port or 80)
    before = rss_kib(pid)
    statuses = {}
    started = time.monotonic()
    for _ in range(count):
        connection.request("POST", "/api/v1/conversations", body=b"", headers={"content-length": "0"})
        response = connection.getresponse()
        response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
    seconds = time.monotonic() - started
    after = rss_kib(pid)
    print(f"{count} attempts in {seconds:.1f} s: {dict(sorted(statuses.items()))}")
    print(f"server RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
