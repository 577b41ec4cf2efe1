"""atheris harness for the csv target (see tests/fuzz/README.md).

PYTHONPATH=/tmp/atheris_site python3 tests/fuzz/fuzz_csv.py -max_total_time=300
"""

from _harness import main

if __name__ == "__main__":
    main("csv")
