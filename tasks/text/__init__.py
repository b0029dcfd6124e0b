"""The text task: sentences as images of word vectors, convolved along time only."""
