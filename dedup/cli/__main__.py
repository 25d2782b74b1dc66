"""`python -m dedup.cli`: the same as the `dedup` command."""

from dedup.cli import main

main()
