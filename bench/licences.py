"""What sealing and verifying one electronic licence costs, per crypto suite.

Issuing: the payload signature, rendering the PDF (embedded CJK font, vector QR code) and the
document seal over the whole file. Verifying a PDF: reading the embedded payload, then both
signatures (the seal hashes every byte of the file). No database: these are the steps the
approval transaction and the verification page add; each figure is the median over ``--n``
licences, in this process's CPU time.

Run: ``.venv/bin/python bench/licences.py [--quick] [--n N]``. The last line is the result.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from tongban.licences import pdf, seal, types
from tongban.security.crypto import get_suite


def _payload(number: int, suite: str) -> dict[str, Any]:
    return {
        "v": seal.VERSION,
        "number": f"SAMR2026L{number:08d}XX",
        "type": "business_licence",
        "type_name": "营业执照",
        "holder": {"kind": "person", "name": "张三", "id_number": "330102199003071230"},
        "department": {"code": "SAMR", "name": "临江市市场监督管理局"},
        "issued_on": "2026-11-26",
        "expires_on": None,
        "fields": {
            "business_name": "临江张三小吃店",
            "address": "临江市江滨区滨江路18号",
            "scope": "餐饮",
            "capital": "10",
            "representative": "张三",
            "registered_on": "2026-11-26",
        },
        "suite": suite,
        "key_id": f"SAMR-{suite}-000000000000",
    }


def run(suite_name: str, n: int) -> dict[str, float]:
    suite = get_suite(suite_name)
    pair = suite.generate_key_pair()
    spec = types.get("business_licence")
    issue_ms: list[float] = []
    verify_ms: list[float] = []
    sizes: list[int] = []
    for number in range(n):
        start = time.process_time()
        payload = _payload(number, suite_name)
        text = seal.payload_text(payload)
        signature = seal.sign_payload(suite_name, pair.private, text)
        url = (
            f"https://example.gov.cn/licences/verify?n={payload['number']}&s={seal.b64(signature)}"
        )
        rendered = pdf.render(spec, payload, url, seal.info_entries(text, signature))
        sealed = seal.seal_pdf(rendered, lambda data: suite.sign(pair.private, data))
        issue_ms.append((time.process_time() - start) * 1000)
        sizes.append(len(sealed))
        start = time.process_time()
        assert seal.read_pdf(sealed).genuine_under(pair.public)
        verify_ms.append((time.process_time() - start) * 1000)
    return {
        "issue_ms": statistics.median(issue_ms),
        "verify_ms": statistics.median(verify_ms),
        "pdf_kb": statistics.median(sizes) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 licences per suite")
    parser.add_argument("--n", type=int, default=50, help="licences per suite")
    args = parser.parse_args()
    n = 5 if args.quick else args.n
    results = {name: run(name, n) for name in ("intl", "sm")}
    for name, figures in results.items():
        print(name, {k: round(v, 2) for k, v in figures.items()})
    print(
        f"RESULT name=licences n={n} "
        + " ".join(f"{s}_{k}={v:.2f}" for s, figures in results.items() for k, v in figures.items())
    )


if __name__ == "__main__":
    main()
