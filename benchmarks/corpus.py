"""A generator of mixed synthetic source documents for the scale benchmarks: code reports, reimbursement guides and
payer policies written from the project's seed and test documents, with synthetic Category III codes, synthetic
payers, policy numbers and dates, so that the readers see the layouts they know but the knowledge grows.

    python benchmarks/corpus.py OUT N [--kind mixed|policy] [--with-seeds] [--seed S]

Generated documents never name the seeds' payers or codes: a request about the seeds' orders should get the
same answer, at the same cost, however many generated documents were built beside them."""

import argparse
import random
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SYNTHETIC = ROOT / "tests" / "build" / "fixtures" / "synthetic"
TEMPLATES = {
    "report": [SEEDS / "000_1e0e786ea3305a2a.txt", SEEDS / "001_fdd25074bb2d427f.txt",
               SEEDS / "004_3b56c2b2a574ec66.txt", SYNTHETIC / "report-0673t.txt"],
    "guide": [SEEDS / "002_98014ccaebf291a1.txt", SYNTHETIC / "guide-2024.txt"],
    "policy": [SEEDS / "003_b10156e311b6c405.txt", SYNTHETIC / "policy-northwind-ire.txt",
               SYNTHETIC / "policy-lakeshore-cryo.txt"],
}
# the payer names, short names and policy numbers the policy templates use, replaced in each generated policy
PAYER_NAMES = ["INDEPENDENT CARE HEALTH PLAN", "Independent Care Health Plan", "NORTHWIND MUTUAL HEALTH",
               "Northwind Mutual Health", "LAKESHORE COMMUNITY HEALTH PLAN", "Lakeshore Community Health Plan"]
SHORT_NAMES = ["iCare", "Northwind", "LCHP"]
POLICY_NUMBERS = ["WI.PA-1266", "NMH-ONC-0042", "LCHP-MP-118"]
CATEGORY_III = re.compile(r"\b0[5-9]\d\dT\b")
FIRST = ["Harbor", "Summit", "Prairie", "Cedar", "Granite", "Maple", "Coastal", "Pioneer", "Evergreen", "Liberty",
         "Riverbend", "Keystone", "Sierra", "Frontier", "Heritage", "Meadow", "Canyon", "Lakeside", "Beacon", "Redwood"]
SECOND = ["Valley", "Ridge", "Point", "Plains", "Bay", "Hills", "Shore", "Forest", "Mesa", "Harvest", "Crest",
          "Springs", "Haven", "Grove", "Falls", "Park", "Trail", "Harbor", "Creek", "Field"]
KINDS = {"mixed": ["report", "guide", "policy"], "policy": ["policy"]}


def synthetic_codes(rng: random.Random, n: int) -> list[str]:
    """Category III shaped codes the seeds do not use (0700T-0999T)."""
    return [f"0{rng.randint(700, 999)}T" for _ in range(n)]


def payer_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(SECOND)} Health Plan {rng.randint(1, 60)}"


def write_document(text: str, kind: str, rng: random.Random) -> str:
    codes = dict.fromkeys(CATEGORY_III.findall(text))
    mapping = dict(zip(codes, synthetic_codes(rng, len(codes))))
    text = CATEGORY_III.sub(lambda m: mapping[m.group(0)], text)
    if kind == "policy":
        name = payer_name(rng)
        short = "".join(w[0] for w in name.split()[:3]) + name.split()[-1]
        for old in PAYER_NAMES:
            text = text.replace(old, name.upper() if old.isupper() else name)
        for old in SHORT_NAMES:
            text = re.sub(rf"\b{re.escape(old)}\b", short, text)
        for old in POLICY_NUMBERS:
            text = text.replace(old, f"{short}-{rng.randint(100, 9999)}")
        month, day, year = rng.randint(1, 12), rng.randint(1, 28), rng.randint(2019, 2025)
        text = re.sub(r"(Effective Date:\s*)\d{2}/\d{2}/\d{4}", rf"\g<1>{month:02d}/{day:02d}/{year}", text)
    return text


def generate(out: Path, n: int, kind: str = "mixed", seed: int = 10, with_seeds: bool = False) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    texts = {k: [p.read_text(encoding="utf-8") for p in paths] for k, paths in TEMPLATES.items()}
    written = []
    for i in range(n):
        doc_kind = KINDS[kind][i % len(KINDS[kind])]
        text = write_document(rng.choice(texts[doc_kind]), doc_kind, rng)
        path = out / f"gen{i:05d}_{doc_kind}.txt"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if with_seeds:
        for p in SEEDS.iterdir():
            shutil.copy(p, out / p.name)
    return written


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("n", type=int)
    p.add_argument("--kind", choices=sorted(KINDS), default="mixed")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--with-seeds", action="store_true", help="copy the seeds beside the generated documents")
    args = p.parse_args(argv)
    generate(args.out, args.n, args.kind, args.seed, args.with_seeds)
    print(f"wrote {args.n} {args.kind} documents to {args.out}")


if __name__ == "__main__":
    main()
