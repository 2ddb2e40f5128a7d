#!/usr/bin/env python3
"""Follows the change feed of a running service the way a consumer does, for the benchmark.

    bench/feed_follower.py http://127.0.0.1:18080 SECONDS

First reads up to the end of the feed, then follows it for SECONDS with long polls
(`GET /api/v1/events?after=<last cursor>&limit=1000&wait=5`), and prints one line:

    FEED events <n> lag_p50_ms <x> lag_p99_ms <y> lag_max_ms <z> duplicates <d>

An event's lag is the time from its transaction's start (`occurred_at`) until the follower
received it: the write itself, the wait for older transactions to end, and the poll.
"""

import datetime
import json
import sys
import time
import urllib.request


def page(base, after, wait):
    query = f"limit=1000&wait={wait}" + (f"&after={after}" if after else "")
    with urllib.request.urlopen(f"{base}/api/v1/events?{query}", timeout=60) as answer:
        return json.load(answer)


def percentile(values, share):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    base, seconds = sys.argv[1], float(sys.argv[2])
    after = None
    while True:
        body = page(base, after, 0)
        after = body["next_cursor"] or after
        if not body["events"]:
            break
    lags, seen, duplicates = [], set(), 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = page(base, after, 5)
        received = datetime.datetime.now(datetime.timezone.utc)
        after = body["next_cursor"] or after
        for event in body["events"]:
            if event["id"] in seen:
                duplicates += 1
            seen.add(event["id"])
            occurred = datetime.datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
            lags.append((received - occurred).total_seconds() * 1000)
    print(
        f"FEED events {len(lags)} lag_p50_ms {percentile(lags, 0.5):.1f} "
        f"lag_p99_ms {percentile(lags, 0.99):.1f} lag_max_ms {max(lags, default=0):.1f} "
        f"duplicates {duplicates}"
    )


if __name__ == "__main__":
    main()
