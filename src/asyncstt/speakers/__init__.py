"""Who speaks when on a mono recording: voice embeddings of its speech (numpy), two voices told apart (scipy)."""
