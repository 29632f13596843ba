"""`python -m flows.cli` is `stackmine`."""

from flows.cli import main

main()
