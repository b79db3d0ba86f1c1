"""Process documents: upload, versions, visibility, and ingestion (parse, chunk, embed, index,
swap versions) in the background."""
