"""``reactdiff serve``: the web application (``app``), its live connections (``live``) and upload
jobs (``jobs``), and the static pages (``static/``). Needs the 'serve' extra."""
