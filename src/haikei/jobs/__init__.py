"""Durable render jobs: the queue in the production database, and executors that run it."""
