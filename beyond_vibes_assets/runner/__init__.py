"""Pack running: requests, the response store (sample cache) and scoring from stored records."""
