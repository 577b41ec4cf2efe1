"""atheris harness for the xml target (see tests/fuzz/README.md).

PYTHONPATH=/tmp/atheris_site python3 tests/fuzz/fuzz_xml.py -max_total_time=300
"""

from _harness import main

if __name__ == "__main__":
    main("xml")
