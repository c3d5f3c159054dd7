"""Script and routine variables: names a statement reads as a value, not as a column.

A script or routine declares variables (BigQuery / MySQL ``DECLARE x ..``, a PL/pgSQL or
Snowflake ``DECLARE`` section, Snowflake ``LET x := ..``) and a routine takes parameters
(``CREATE PROCEDURE p(run_date DATE)``). In the statements after them, within that script,
block or routine, a bare ``run_date`` is the variable unless a table read there has a
column of that name. Such a name is no column: it has no source, like a literal or a bind
parameter, and filters nothing.

The statements of a script reach ``extract`` flattened (a routine's body is cut into its
statements), so where a scope opens and closes travels with them as marks
(:class:`Enter`, :class:`Declare`, :class:`Leave`), applied in order to the session's
:class:`Variables`.

>>> routine_parameters("CREATE PROCEDURE p(IN p_day DATE, OUT n INT64, v_x STRING DEFAULT 'a,b') BEGIN")
('p_day', 'n', 'v_x')
>>> routine_parameters("CREATE FUNCTION f(date, int) RETURNS int AS $$ SELECT $1 $$")
()
>>> declared_names("DECLARE a, b INT64 DEFAULT 0"), declared_names("DECLARE OR REPLACE VARIABLE v INT = 5")
(('a', 'b'), ('v',))
>>> declared_names("DECLARE @d DATE = GETDATE()"), declared_names("DECLARE c CURSOR FOR SELECT 1")
((), ())
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from sqlglot import exp

from .script import _DOLLAR_BODY, _ROUTINE_HEAD, block_head

_I = re.IGNORECASE | re.DOTALL
_NAME = r"(?:[A-Za-z_][\w$]*|`[^`]+`|\"[^\"]+\")"
_DECLARE = re.compile(r"^\s*DECLARE\b", _I)
# Databricks / Spark: DECLARE [OR REPLACE] [VARIABLE] name ..
_DECLARED = re.compile(rf"^\s*DECLARE\s+(?:OR\s+REPLACE\s+)?(?:VARIABLE\s+)?({_NAME}(?:\s*,\s*{_NAME})*)(\s+\S+)?", _I)
_LET = re.compile(rf"^\s*LET\s+({_NAME})", _I)
_LET_VALUE = re.compile(rf"^\s*(?:LET\s+|DECLARE\s+)?{_NAME}(?:\s+[A-Za-z_][\w.]*)?\s*(?::=|\bDEFAULT\b)\s*(\S.*)$", _I)
# One declaration of a DECLARE section after its first (PL/pgSQL, Snowflake): ``v_x text := ''``.
_DECLARATION = re.compile(rf"^\s*({_NAME})\s+(?:CONSTANT\s+)?[A-Za-z_][\w.]*", _I)
_OPENS = re.compile(r"\bBEGIN\s*$", re.IGNORECASE)
_AS = re.compile(r"\bAS\s*$", re.IGNORECASE)
_BLOCK_END = re.compile(r"^\s*END(?:\s+(?!(?:IF|LOOP|WHILE|FOR|REPEAT|CASE|TRY|CATCH)\b)\w+)?\s*$"
                        r"|^\s*END\s+(?=ELSE\b)", _I)
# Not names: what follows DECLARE in a handler or cursor, and a section's statements.
_NOT_DECLARED = frozenset({"CONTINUE", "EXIT", "UNDO", "GLOBAL", "LOCAL"})
_KINDS_NO_VALUE = frozenset({"CURSOR", "HANDLER", "CONDITION", "EXCEPTION", "SCROLL", "NO", "BINARY",
                             "INSENSITIVE", "ASENSITIVE"})
_MODES = frozenset({"IN", "OUT", "INOUT", "VARIADIC"})
# Where DECLARE opens a section of declarations that the next BEGIN's block owns.
SECTION_DIALECTS = frozenset({"postgres", "redshift", "snowflake", "oracle", "materialize", "risingwave"})


@dataclass(frozen=True)
class Enter:
    """A block or routine opens, with these names (its parameters, a section's first)."""

    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Declare:
    """Names declared in the block that is open; ``text``: a declaration of a section, which is no
    statement of its own and is reported as one (``other``)."""

    names: tuple[str, ...]
    text: str = ""


@dataclass(frozen=True)
class Leave:
    """The innermost block or routine ends."""


Mark = Enter | Declare | Leave


@dataclass
class Variables:
    """The variables in scope: one set per open block, the script's own at the bottom."""

    frames: list[set[str]] = field(default_factory=lambda: [set()])

    def apply(self, mark: Mark) -> None:
        if isinstance(mark, Enter):
            self.frames.append({_key(n) for n in mark.names})
        elif isinstance(mark, Declare):
            self.frames[-1].update(_key(n) for n in mark.names)
        elif len(self.frames) > 1:  # an END with no block open (unbalanced text) keeps the script's
            self.frames.pop()

    def __contains__(self, name: str) -> bool:
        key = _key(name)
        return any(key in frame for frame in self.frames)

    def __bool__(self) -> bool:
        return any(self.frames)


def _key(name: str) -> str:
    """Variables are matched without case: every language here resolves unquoted names so."""
    return name.strip('`"').casefold()


class Marks:
    """Reads the chunks of one script in order (a block's inside between its head and what follows
    it): what each opens, declares or closes. Holds whether a DECLARE section is open (its
    declarations are chunks of their own)."""

    def __init__(self, dialect: str | None) -> None:
        self.sections = (dialect or "") in SECTION_DIALECTS
        self.in_section = False

    def block(self, text: str) -> tuple[list[Mark], list[Mark]]:
        """Marks before and after the statements of a block or routine chunk ``text`` (one that
        ``script.body_statements`` opens)."""
        adopted, self.in_section = self.in_section, False
        head = block_head(text) or ""
        opens = _OPENS.search(head) is not None  # BEGIN, not BEGIN TRY nor a T-SQL routine's AS
        if _ROUTINE_HEAD.match(text):  # CREATE PROCEDURE / FUNCTION, DO
            names = routine_parameters(text)
            if _DOLLAR_BODY.search(text):
                return [Enter(names)], [Leave()]
            if self.sections and _AS.search(head):  # Oracle: AS, its declarations, then BEGIN
                self.in_section = True
                return [Enter(names)], []
            return ([Enter(names)] if opens else []), []
        if _BLOCK_END.match(text):
            return [Leave()], []
        if opens and not adopted:  # after a DECLARE section, its BEGIN is its block
            return [Enter(declared_names(text) if _DECLARE.match(text) else ())], []
        return [], []

    def statement(self, text: str) -> Mark | None:
        """What a statement chunk declares: a DECLARE, a LET, a further declaration of a section."""
        if _DECLARE.match(text):
            names = declared_names(text)
            if self.sections:
                self.in_section = True
                return Enter(names)
            return Declare(names) if names else None
        if self.in_section:
            declaration = _DECLARATION.match(text)
            word = text.split(None, 1)[0].upper() if text.strip() else ""
            if declaration and not _statement_word(word):
                return Declare(_names([declaration.group(1)], text[declaration.end(1):]), text)
            self.in_section = False
        let = _LET.match(text)
        return Declare((let.group(1),)) if let else None


def let_value(text: str) -> str | None:
    """The value of a Snowflake ``LET v [type] := value`` (or ``DEFAULT value``) or of a
    declaration ``[DECLARE] v [type] := value``, which sqlglot cannot read as a statement;
    None for another text.

    >>> let_value("LET res RESULTSET := (SELECT id FROM t)"), let_value("v int DEFAULT 0")
    ('(SELECT id FROM t)', '0')
    """
    match = _LET_VALUE.match(text)
    return match.group(1) if match else None


def _statement_word(word: str) -> bool:
    """Whether a chunk's first word begins a statement, which ends a DECLARE section."""
    from .commands import PROCEDURAL_WORDS  # here: commands imports base, which imports this module

    return word in PROCEDURAL_WORDS or word in _STATEMENT_WORDS


_STATEMENT_WORDS = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER",
                              "TRUNCATE", "COPY", "GRANT", "REVOKE", "BEGIN", "COMMIT", "ROLLBACK", "MOVE", "USE",
                              "VALUES", "TABLE", "EXPLAIN", "ANALYZE", "VACUUM", "SHOW", "DESCRIBE", "UNLOAD"})


def _names(candidates: list[str], rest: str) -> tuple[str, ...]:
    """The candidates as names, or none where what follows makes them no value (a cursor)."""
    following = rest.split(None, 1)[0].upper() if rest.strip() else ""
    if following in _KINDS_NO_VALUE:
        return ()
    return tuple(c.strip('`"') for c in candidates if c.upper() not in _NOT_DECLARED)


def declared_names(text: str) -> tuple[str, ...]:
    """Names a ``DECLARE`` statement declares (none for T-SQL's ``@`` names, a cursor, a handler)."""
    match = _DECLARED.match(text)
    if not match:
        return ()
    return _names([n.strip() for n in match.group(1).split(",")], match.group(2) or "")


def routine_parameters(text: str) -> tuple[str, ...]:
    """Names of the parameters in a routine head's list (``IN``/``OUT`` marks skipped; an
    unnamed parameter, read as ``$1``, gives none)."""
    items = _parameter_list(text)
    names = []
    for item in items:
        words = item.split()
        while words and words[0].upper() in _MODES:
            words = words[1:]
        if len(words) >= 2 and re.fullmatch(_NAME, words[0]) and words[0].upper() not in _MODES:
            names.append(words[0].strip('`"'))
    return tuple(names)


def _parameter_list(text: str) -> list[str]:
    """The top-level items between the first ``(`` of a routine head and its ``)``."""
    start = text.find("(")
    if start < 0 or "$" in text[:start]:
        return []
    items, depth, current = [], 0, []
    for char in text[start + 1 :]:
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                items.append("".join(current))
                return [i for i in items if i.strip()]
            depth -= 1
        elif char == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    return []


# -- in a statement ------------------------------------------------------------

# How a language resolves a name that is both a variable in scope and a column of a table the
# statement reads. MySQL: the variable ("MySQL currently interprets the reference as the name of
# a variable"). BigQuery, Snowflake, Oracle PL/SQL and PostgreSQL's SQL functions: the column.
# PL/pgSQL raises an error by default (plpgsql.variable_conflict = error), so a PL/pgSQL
# statement that ran was not ambiguous to its engine: the column is kept there too.
VARIABLE_WINS = frozenset({"mysql"})


def unbind(node: exp.Expr, variables: Variables, known: set[str], dialect: str | None) -> bool:
    """Replace, in ``node``, each bare column name that is a variable in scope by a parameter;
    ``known``: the (casefolded) columns the catalog knows for the tables it reads. A ``SELECT ..
    INTO v`` into a variable is a plain query. Whether ``node`` changed."""
    changed = _select_into_variable(node, variables)
    names = _aliases(node) if dialect in VARIABLE_WINS else known | _aliases(node) | _updated(node)
    for column in list(node.find_all(exp.Column)):
        if column.table or not isinstance(column.this, exp.Identifier) or column.name not in variables:
            continue
        if column.name.casefold() in names or _assigned(column) or _lambda_parameter(column):
            continue
        value: exp.Expr = exp.Parameter(this=exp.var(column.name))
        if isinstance(column.parent, exp.Select) and column.arg_key == "expressions":
            value = exp.alias_(value, exp.to_identifier(column.name, quoted=column.this.quoted))
        column.replace(value)
        changed = True
    return changed


def known_columns(node: exp.Expr, columns_of: Callable[[exp.Table], Mapping[str, str] | None]) -> set[str]:
    """The (casefolded) columns the catalog knows for the tables ``node`` names."""
    known: set[str] = set()
    for table in node.find_all(exp.Table):
        if table.name and not isinstance(table.this, exp.Func):
            known |= {c.casefold() for c in columns_of(table) or ()}
    return known


def _select_into_variable(node: exp.Expr, variables: Variables) -> bool:
    """PL/pgSQL / MySQL ``SELECT count(*) INTO v_n FROM t``, Snowflake ``INTO :v_n``: a variable,
    not a new table."""
    into = node.args.get("into") if isinstance(node, exp.Select) else None
    if isinstance(into, exp.Into) and isinstance(into.this, exp.Table):
        target = into.this
        bound = isinstance(target.this, exp.Placeholder)  # Snowflake: INTO :v
        if bound or not target.args.get("db") and isinstance(target.this, exp.Identifier) and target.name in variables:
            node.set("into", None)
            return True
    return False


def _aliases(node: exp.Expr) -> set[str]:
    """Names the statement gives columns itself (``AS x``, ``t(a, b)``, a CTE's column list):
    a bare name that is one of them is that column."""
    names = {a.alias.casefold() for a in node.find_all(exp.Alias)
             if not (isinstance(a.this, exp.Column) and a.this.name == a.alias)}
    for alias in node.find_all(exp.TableAlias):
        names |= {c.name.casefold() for c in alias.columns}
    return names


def _updated(node: exp.Expr) -> set[str]:
    """Columns an UPDATE or a MERGE's UPDATE sets: the table they are in is read there, so it has
    them, whatever the catalog knows."""
    return {eq.this.name.casefold() for update in node.find_all(exp.Update) for eq in update.expressions
            if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column)}


def _assigned(column: exp.Column) -> bool:
    """A column written, not read: ``SET col = ..`` of an UPDATE or MERGE, a column list."""
    parent = column.parent
    if isinstance(parent, exp.EQ) and column.arg_key == "this" and isinstance(parent.parent, (exp.Update, exp.Set, exp.SetItem)):
        return True
    return column.find_ancestor(exp.Schema) is not None or (
        isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Insert) and parent.arg_key == "this")


def _lambda_parameter(column: exp.Column) -> bool:
    lam = column.find_ancestor(exp.Lambda)
    while lam is not None:
        if any(p.name == column.name for p in lam.expressions):
            return True
        lam = lam.find_ancestor(exp.Lambda)
    return False
