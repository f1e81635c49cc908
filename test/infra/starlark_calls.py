"""Reads Tiltfiles as Python (Starlark's syntax is a subset of it) and prints, as JSON, per file:
the constructs Starlark lacks, the top-level functions and literal constants, and every call of a
named function with its literal arguments (null where an argument is not a literal)."""
import ast
import json
import sys

# Python syntax Starlark does not have.
NOT_STARLARK = (
    ast.Import, ast.ImportFrom, ast.ClassDef, ast.While, ast.Try, ast.With, ast.JoinedStr, ast.Lambda,
    ast.Global, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await, ast.Yield, ast.YieldFrom, ast.Set,
    ast.SetComp, ast.Raise, ast.NamedExpr,
)


def literal(node, constants=None):
    """A literal's value; a name bound to a top-level literal is that literal."""
    if isinstance(node, ast.Name) and constants and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def describe(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    constants = {
        n.targets[0].id: literal(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
    }
    calls = [
        {
            'name': node.func.id,
            'args': [literal(arg, constants) for arg in node.args],
            'keywords': {k.arg: literal(k.value, constants) for k in node.keywords if k.arg},
        }
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    return {
        'notStarlark': [f'{type(n).__name__} line {n.lineno}' for n in ast.walk(tree) if isinstance(n, NOT_STARLARK)],
        'functions': [n.name for n in tree.body if isinstance(n, ast.FunctionDef)],
        'constants': constants,
        'calls': calls,
    }


print(json.dumps({path: describe(path) for path in sys.argv[1:]}))
