"""What the HTTP shells share (the API in ``postguard.api``, the pages in ``postguard.web``): bounded
request parameters, the client's address, staff sessions with their CSRF check, the data subject's
proof, whether an error is answered with a page or problem+json (``answers``), and the credentials
each dependency takes, for the OpenAPI document (``security``). Both shells import this package; neither imports the other, and nothing here
imports either."""
