"""Business rules: intake, rendering, review, variants, delivery. The only layer that combines the others."""
