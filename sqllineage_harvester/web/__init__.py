"""The lineage view in a browser: ``serve`` (a local app over any store, asking the server for
pieces as it goes) and self-contained HTML files (``--format html``, ``export --format html``).

``reader`` reads what the view needs of each store, ``view`` shapes it for the graph component,
``page`` makes the HTML (served or one file), ``serve`` answers HTTP; ``assets/`` is the front end
(``app.js``, ``app.css``, and dagre for the layout, vendored with its license).
"""
