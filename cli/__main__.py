"""`python -m cli`: the same as the `guidec` command."""

from cli.main import main

main()
