"""`python -m harvester` runs the CLI."""
from harvester.cli import app

app(prog_name="harvester")
