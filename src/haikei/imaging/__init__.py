"""Safe image I/O, line and region tools. Pure functions over numpy arrays and files."""
