"""`python -m wfc`."""

from .cli import main

main()
