"""Logistic regression against a Newton solve written for the test: the telco and bank
splits of shared/bench (gen/propensity.py, the anchor's arguments) are made from
../shared/data, fitted by logistic_fit_csv (median imputation, standardisation, L2 with
C = 1) and every coefficient compared with tests/data/logistic_reference.csv (made by
tests/data/make_logistic_reference.py) to 1e-8.

usage: test_logistic_reference.py LOGISTIC_FIT_CSV SOURCE_ROOT   (exit 77 = skipped: no
       shared data)
"""
import csv
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

TOLERANCE = 1e-8
SETS = {  # name: (raw file, gen/propensity.py arguments), as shared/bench/run_anchors.sh
    "telco": ("telco_customer_churn.csv.gz", ["--label", "Churn", "--positive", "Yes",
                                               "--drop", "customerID"]),
    "bank": ("bank_additional_full.csv.gz", ["--sep", ";", "--label", "y", "--positive", "yes",
                                              "--drop", "duration"]),
}


def main(fit, root):
    shared = os.environ.get("PERSONA_SHARED", os.path.join(os.path.dirname(root), "shared"))
    if not os.path.isdir(os.path.join(shared, "data")):
        print(f"no shared data under {shared}: skipped")
        return 77
    want = {}
    with open(os.path.join(root, "tests", "data", "logistic_reference.csv"), newline="") as f:
        for row in csv.DictReader(f):
            want.setdefault(row["data"], []).append(float(row["coefficient"]))
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (raw, args) in SETS.items():
            plain = os.path.join(tmp, name + ".raw.csv")
            with gzip.open(os.path.join(shared, "data", raw), "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
            prefix = os.path.join(tmp, name)
            subprocess.run([sys.executable, os.path.join(shared, "bench", "gen", "propensity.py"),
                            "--input", plain, *args, "--seed", "42", "--out", prefix],
                           check=True, stdout=subprocess.DEVNULL)
            out = subprocess.run([fit, prefix + ".num_train.csv"], check=True,
                                 capture_output=True, text=True).stdout.split()
            got = [float(v) for v in out]
            if len(got) != len(want[name]):
                print(f"{name}: {len(got)} coefficients, the reference has {len(want[name])}")
                return 1
            diff = max(abs(a - b) for a, b in zip(got, want[name]))
            print(f"{name}: {len(got)} coefficients, largest difference {diff:.3g}")
            worst = max(worst, diff)
    if worst > TOLERANCE:
        print(f"FAIL: a coefficient differs by {worst:.3g} (tolerance {TOLERANCE})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
