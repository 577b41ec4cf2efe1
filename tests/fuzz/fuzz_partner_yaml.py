"""atheris harness for the partner_yaml target (see tests/fuzz/README.md).

PYTHONPATH=/tmp/atheris_site python3 tests/fuzz/fuzz_partner_yaml.py -max_total_time=300
"""

from _harness import main

if __name__ == "__main__":
    main("partner_yaml")
