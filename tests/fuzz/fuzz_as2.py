"""atheris harness for the as2 target (see tests/fuzz/README.md).

PYTHONPATH=/tmp/atheris_site python3 tests/fuzz/fuzz_as2.py -max_total_time=300
"""

from _harness import main

if __name__ == "__main__":
    main("as2")
