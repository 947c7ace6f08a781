"""The decision log's pages, one module per area: recording and reviewing
(`records`), the filtered list and its exports (`lists`), and a person's
disclosure history (`history`)."""
