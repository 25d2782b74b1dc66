"""`python -m dedup.cli`: the same as the `dedup` command."""

from dedup.cli import main

if __name__ == "__main__":  # not when multiprocessing's spawn re-imports it as __mp_main__
    main()
