"""Legal persons (companies and other organisations) and the natural persons who act for them."""
