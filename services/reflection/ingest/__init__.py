"""From an uploaded file to searchable chunks: parse, chunk, embed, index, swap versions."""
