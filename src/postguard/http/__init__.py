"""What the HTTP shells share (the API in ``postguard.api``, the pages in ``postguard.web``): bounded
request parameters, the client's address, staff sessions with their CSRF check, and the data
subject's proof. Both shells import this package; neither imports the other, and nothing here
imports either."""
