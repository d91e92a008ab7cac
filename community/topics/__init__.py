"""Topics (questions, ideas, discussions), posts, comments, votes, tags, accepted answers."""
