"""Policy knowledge: documents in, structured items stored, questions answered. Knows nothing of chat apps."""
