"""Search over process documents: hybrid retrieval with citations, the LangChain retriever, the
embedding model behind a protocol, and the embeddings endpoint other services call."""
