"""Rich consoles for the CLI: answers on stdout, progress and problems on stderr."""
from rich.console import Console

out = Console()
err = Console(stderr=True)
