"""Sign-on across levels: each node a relying party of its parent's OpenID provider."""
