"""The release calendar's pages: `views` (the pages and their forms) and `grid` (what they
draw: bands, entries, days and lanes)."""
