"""Does nothing: parses the platform's arguments and exits 0. For benchmarks of the job pipeline."""

import argparse

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--config")
parser.add_argument("--output")
parser.parse_args()
