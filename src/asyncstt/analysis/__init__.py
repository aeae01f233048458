"""Speech and conversation analysis and the profanity classifier: pure functions over a transcript."""
