"""The chunk index: dense + BM25 sparse vectors per chunk, queried hybrid, filtered inside."""
