"""The blocklist: confirmed scam domains and links, published signed for resolvers and browsers."""
