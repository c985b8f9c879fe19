"""Pure typed models and rules. Imports nothing else from haikei."""
