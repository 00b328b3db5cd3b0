"""``python -m uep.cli``: how `uep dev` starts its children with the venv's interpreter."""

from uep.cli import main

main()
