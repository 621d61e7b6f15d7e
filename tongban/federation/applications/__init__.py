"""Cross-region applications (跨省通办): received at the home node, handled at another."""
