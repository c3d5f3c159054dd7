"""Scripts whose statements are not ended by semicolons (T-SQL allows it, and pasted
scripts of any dialect drop them): where a chunk of text does not parse as one
statement, it is cut before each keyword that can only begin a new one.

Only a token at parenthesis depth 0 cuts, and only where the statement in hand
cannot continue with it: the ``SELECT`` of ``INSERT INTO t SELECT``, of ``CREATE
TABLE t AS SELECT`` and after ``UNION``; the ``INSERT`` / ``UPDATE`` / ``DELETE`` of
a ``WITH``, of a MERGE's ``THEN`` and of ``ON DUPLICATE KEY UPDATE``; the ``DROP`` of
``ALTER TABLE``, and the ``SET`` of an ``UPDATE`` all stay.

>>> from sqlglot.dialects.dialect import Dialect
>>> tsql = Dialect.get_or_raise("tsql")
>>> text = "INSERT INTO t (a) SELECT a FROM s UNION ALL SELECT b FROM u\\nUPDATE t SET a = 1\\nSELECT * FROM t"
>>> [piece for piece, _ in split_unterminated(tsql.tokenize(text), text)]
['INSERT INTO t (a) SELECT a FROM s UNION ALL SELECT b FROM u', 'UPDATE t SET a = 1', 'SELECT * FROM t']
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

STARTS = frozenset({
    TokenType.SELECT, TokenType.INSERT, TokenType.UPDATE, TokenType.DELETE, TokenType.MERGE, TokenType.CREATE,
    TokenType.DROP, TokenType.ALTER, TokenType.TRUNCATE, TokenType.WITH, TokenType.USE, TokenType.SET,
    TokenType.DECLARE, TokenType.EXECUTE, TokenType.COMMAND, TokenType.COMMIT, TokenType.ROLLBACK,
})
DML = frozenset({TokenType.INSERT, TokenType.UPDATE, TokenType.DELETE, TokenType.MERGE})
SET_OPERATORS = frozenset({TokenType.UNION, TokenType.INTERSECT, TokenType.EXCEPT, TokenType.ALL,
                           TokenType.DISTINCT})
# A keyword right after one of these continues the statement: MERGE's THEN UPDATE, FOR UPDATE,
# ON DELETE, CREATE OR REPLACE, INSERT INTO, GRANT SELECT, INSERT, ...
CHAINS = frozenset({TokenType.THEN, TokenType.FOR, TokenType.ON, TokenType.OR, TokenType.INTO, TokenType.COMMA,
                    TokenType.KEY, TokenType.GRANT})


def split_unterminated(tokens: list[Token], text: str) -> list[tuple[str, list[Token]]]:
    """``(text, tokens)`` of each statement in a run of tokens that has no semicolons."""
    pieces: list[list[Token]] = [[]]
    depth, head, has_query, body, guarded = 0, None, False, None, False
    for i, token in enumerate(tokens):
        kind = token.token_type
        if kind in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif kind in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth = max(depth - 1, 0)
        elif depth == 0 and pieces[-1] and kind in STARTS:
            if head is not None and head.text.upper() == "IF" and not guarded:
                guarded = True  # IF <condition> <the one statement it guards>
            elif _starts_new(kind, pieces[-1][-1], tokens[i + 1 : i + 3], head and head.token_type,
                             has_query, body):
                pieces.append([])
                head, has_query, body, guarded = None, False, None, False
        if depth == 0 and kind not in (TokenType.L_PAREN, TokenType.R_PAREN):
            if head is None:
                head = token
            elif kind in (TokenType.SELECT, TokenType.VALUES):
                has_query = True
            elif kind in DML and body is None:
                body = kind
        pieces[-1].append(token)
    return [(text[p[0].start : p[-1].end + 1], p) for p in pieces if p]


def _starts_new(kind: TokenType, previous: Token, following: list[Token], head: TokenType | None,
                has_query: bool, body: TokenType | None) -> bool:
    """Whether ``kind`` begins a new statement; ``body`` is the first DML keyword of the one in
    hand after its head (WITH .. INSERT)."""
    before = previous.token_type
    if before in CHAINS or previous.text.upper() in ("GRANT", "REVOKE", "BULK"):
        return False
    if before == TokenType.COMMIT and kind in (TokenType.DROP, TokenType.DELETE):
        return False  # ON COMMIT DROP / DELETE ROWS
    after = following[0].token_type if following else None
    if kind == TokenType.SELECT:
        if before in SET_OPERATORS or before == TokenType.L_PAREN:
            return False
        if has_query or body in (TokenType.UPDATE, TokenType.DELETE, TokenType.MERGE):
            return True  # a query already, or WITH .. UPDATE / DELETE / MERGE
        if body == TokenType.INSERT:
            return False  # WITH .. INSERT INTO t SELECT
        if head == TokenType.CREATE:  # CREATE TABLE t AS SELECT, CREATE VIEW v AS SELECT
            return before != TokenType.ALIAS
        return head not in (TokenType.INSERT, TokenType.WITH)
    if kind in DML:
        return not (head == TokenType.WITH and body is None)  # WITH x AS (...) INSERT / UPDATE / ...
    if kind == TokenType.WITH:  # a CTE, not a table hint WITH (NOLOCK) or an option list
        return head not in (TokenType.CREATE, TokenType.INSERT) and after not in (TokenType.L_PAREN, None)
    if kind == TokenType.SET:  # UPDATE t SET, WITH .. UPDATE t SET, MERGE's UPDATE SET, ALTER .. SET
        return head not in (TokenType.UPDATE, TokenType.MERGE, TokenType.ALTER, TokenType.INSERT) and body is None
    if kind in (TokenType.DROP, TokenType.ALTER):  # ALTER TABLE t DROP COLUMN c / ALTER COLUMN c
        return head != TokenType.ALTER or (after is not None and following[0].text.upper() == "TABLE")
    return True
