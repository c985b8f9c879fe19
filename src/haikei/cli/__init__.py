"""Typer commands. Errors become one clear line and an exit code here, and only here."""
