"""SQL tables, repositories and the content-addressed blob store."""
