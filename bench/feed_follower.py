#!/usr/bin/env python3
"""Follows the change feed of a running service the way a consumer does, for the benchmark.

    bench/feed_follower.py http://127.0.0.1:18080 MARKER

First reads up to the end of the feed and prints `READY`; then follows it with long polls
(`GET /api/v1/events?after=<last cursor>&limit=1000&wait=5`) until it gets SIGTERM, and
prints one line:

    FEED events <n> marked <m> lag_p50_ms <x> lag_p99_ms <y> lag_max_ms <z> duplicates <d>

`marked` counts the `created` events whose email contains MARKER (the creates the bench
sent meanwhile, to compare with what the table holds). An event's lag is the time from its
transaction's start (`occurred_at`) until the follower received it: the write itself, the
wait for older transactions to end, and the poll.
"""

import datetime
import json
import signal
import sys
import urllib.request

stopping = False


def stop(_signal, _frame):
    global stopping
    stopping = True


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
    base, marker = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, stop)
    after = None
    while True:
        body = page(base, after, 0)
        after = body["next_cursor"] or after
        if not body["events"]:
            break
    print("READY", flush=True)
    lags, seen, duplicates, marked = [], set(), 0, 0
    while not stopping:
        body = page(base, after, 1)
        received = datetime.datetime.now(datetime.timezone.utc)
        after = body["next_cursor"] or after
        for event in body["events"]:
            if event["id"] in seen:
                duplicates += 1
            seen.add(event["id"])
            email = event["changes"].get("email", {}).get("to") or ""
            if event["type"] == "created" and marker in email:
                marked += 1
            occurred = datetime.datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
            lags.append((received - occurred).total_seconds() * 1000)
    print(
        f"FEED events {len(lags)} marked {marked} lag_p50_ms {percentile(lags, 0.5):.1f} "
        f"lag_p99_ms {percentile(lags, 0.99):.1f} lag_max_ms {max(lags, default=0):.1f} "
        f"duplicates {duplicates}",
        flush=True,
    )


if __name__ == "__main__":
    main()
