#!/usr/bin/env python3
"""Extract Stripe's example objects (fixtures) for the resources Guidepost uses.

Reads openapi/fixtures3.json from the stripe/openapi repository (MIT licence)
and writes tests/stripe/fixtures.json as
    {"source": "...", "objects": {"customer": {...}, ...}}.

How the input was obtained (any clone of stripe/openapi will do):

    git clone --depth 1 <stripe/openapi repository> /tmp/stripe-openapi
    python3 tests/stripe/fixtures.py /tmp/stripe-openapi/openapi/fixtures3.json \
        --source "stripe/openapi@<commit> openapi/fixtures3.json"

Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "fixtures.json")

OBJECTS = [
    "customer",
    "product",
    "price",
    "webhook_endpoint",
    "checkout.session",
    "subscription",
    "invoice",
    "billing_portal.session",
    "event",
]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("fixtures", help="path to stripe/openapi's openapi/fixtures3.json")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--source", default="stripe/openapi openapi/fixtures3.json")
    args = ap.parse_args(argv)

    with open(args.fixtures, encoding="utf-8") as f:
        data = json.load(f)
    resources = data.get("resources", data)

    objects = {}
    for name in OBJECTS:
        if name not in resources:
            print(f"error: no fixture for {name!r}", file=sys.stderr)
            return 1
        objects[name] = resources[name]

    out = {"source": args.source, "licence": "MIT, (c) Stripe, Inc.", "objects": objects}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, {len(objects)} objects)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
