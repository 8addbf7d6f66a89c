"""``python -m wavelength`` runs the command line."""

from wavelength.cli import main

main()
