"""Command-line interface (placeholder until the spine lands)."""


def main() -> None:
    """Run the command-line interface."""
