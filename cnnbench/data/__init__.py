"""Where data sets live and how they are obtained."""
