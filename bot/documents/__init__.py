"""What a citizen takes away: the 一次性告知单 and the forms, as HTML pages and A4 PDFs with an embedded font."""
