"""Runs an item's hidden tests against the reply's code inside the sandbox, so that the verdict comes from the
runner and not from anything the reply can do by ordinary means.

This file runs as a script in the sandbox (standard library only). The harness writes the payload (a nonce,
the test source, the module under test) on stdin; the test source never touches the sandbox's disk, so the
reply cannot read the tests or the expected values. Before the reply's code is imported the runner:
- takes its own references to everything it uses afterwards (`os.write`, `os.fstat`, `os._exit`, `getattr`,
  `type`, operators, ...), held in locals: patching `builtins`, `json`, `os` or `getattr` changes nothing here;
- imports what the tests import (pytest, ...), so a module the reply writes cannot shadow them;
- snapshots every loaded module's namespace and class dictionaries, `sys.path`, `sys.meta_path` and the
  loaded-module table, checked after the import and after every test: a reply that patches `pytest.raises`,
  a builtin, `json.dumps` or an import hook is flagged ("touched the test machinery") and fails;
- rewrites the tests' `assert` statements so a comparison between a plain value the test supplies and an
  object whose comparison or arithmetic the reply defined (the "always equal" object) fails.
The result goes to a pipe whose read end only the harness holds, prefixed by the nonce, written once, by the
runner's own process (a fork of it is refused), after checking that the descriptor is still the one it was.

Not defended: deliberate introspection of the interpreter (reading the runner's frames or objects through
`sys._getframe`, `gc`, `ctypes`), which the README's threat model states.
"""

import ast as _ast

BV_HELPERS = ("__bv_cmp__", "__bv_bin__", "__bv_truth__")
COMPARE = {"Eq": "eq", "NotEq": "ne", "Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge", "In": "contains_in",
           "NotIn": "contains_not_in"}
BINARY = {"Add": "add", "Sub": "sub", "Mult": "mul", "Div": "truediv", "FloorDiv": "floordiv", "Mod": "mod",
          "Pow": "pow", "BitAnd": "and_", "BitOr": "or_", "BitXor": "xor", "MatMult": "matmul",
          "LShift": "lshift", "RShift": "rshift"}


class _Guard(_ast.NodeTransformer):
    """Inside assert statements: `a == b` -> __bv_cmp__("eq", a, b), `a - b` -> __bv_bin__("sub", a, b), a bare
    tested value -> __bv_truth__(x). Evaluation order and results are unchanged for honest values."""

    def visit_Assert(self, node):
        node.test = self._test(node.test)
        return node

    def _test(self, expr):
        if isinstance(expr, _ast.BoolOp):
            expr.values = [self._test(v) for v in expr.values]
            return expr
        if isinstance(expr, _ast.UnaryOp) and isinstance(expr.op, _ast.Not):
            expr.operand = self._test(expr.operand)
            return expr
        if isinstance(expr, _ast.Compare):
            return self._expr(expr)
        return _call("__bv_truth__", [self._expr(expr)])

    def _expr(self, expr):
        return _Inner().visit(expr)


class _Inner(_ast.NodeTransformer):
    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) != 1 or type(node.ops[0]).__name__ not in COMPARE:
            return node
        return _call("__bv_cmp__", [_ast.Constant(COMPARE[type(node.ops[0]).__name__]), node.left, node.comparators[0]])

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if type(node.op).__name__ not in BINARY:
            return node
        return _call("__bv_bin__", [_ast.Constant(BINARY[type(node.op).__name__]), node.left, node.right])

    def visit_Lambda(self, node):  # a lambda's body runs later, outside the assert: leave it alone
        return node


def _call(name, args):
    return _ast.Call(func=_ast.Name(id=name, ctx=_ast.Load()), args=args, keywords=[])


def guard_source(source: str, filename: str = "test_hidden.py"):
    """The test source compiled with its asserts guarded (a pure function: the harness unit-tests it)."""
    tree = _Guard().visit(_ast.parse(source, filename))
    _ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


DUNDERS = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__len__", "__contains__",
           "__iter__", "__hash__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
           "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__abs__",
           "__float__", "__int__", "__index__", "__round__", "__neg__", "__and__", "__or__", "__xor__", "__getitem__")


def main():  # noqa: C901 - one function on purpose: everything the verdict needs lives in its locals
    import builtins
    import importlib.util
    import operator
    import os
    import sys

    read, write, fstat, exit_, getpid, close = os.read, os.write, os.fstat, os._exit, os.getpid, os.close
    b_type, b_isinstance, b_ord, b_sorted, b_callable = type, isinstance, ord, sorted, callable
    b_str, b_list, b_dict = str, list, dict
    dunders = DUNDERS
    type_dict = type.__dict__["__dict__"].__get__
    type_mro = type.__dict__["__mro__"].__get__
    type_name = type.__dict__["__name__"].__get__
    subclasses = type.__subclasses__
    module_dict = type(sys).__dict__["__dict__"].__get__
    chunks = []
    while True:
        chunk = read(0, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    close(0)
    import json
    payload = json.loads(b"".join(chunks).decode("utf-8"))
    nonce, module_name, test_source = payload["nonce"], payload["module"], payload["tests"]
    result_fd = int(os.environ["BV_RESULT_FD"])
    first = fstat(result_fd)
    channel_id = (first.st_dev, first.st_ino)
    me = getpid()
    ops = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
           "ge": operator.ge, "contains_in": lambda a, b: a in b, "contains_not_in": lambda a, b: a not in b}
    for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and_", "or_", "xor", "matmul", "lshift",
                 "rshift"):
        ops[name] = getattr(operator, name)
    sys.path.insert(0, os.getcwd())

    def enc(value):  # a tiny JSON encoder of str / bool / None / list: no module the reply can reach
        if value is None:
            return "null"
        if value is True or value is False:
            return "true" if value else "false"
        if b_type(value) is b_list:
            return "[" + ",".join([enc(v) for v in value]) + "]"
        text = value if b_type(value) is b_str else "?"
        return '"' + "".join([c if " " <= c and c not in '"\\' and c < "\x7f" else f"\\u{b_ord(c):04x}"
                              for c in text]) + '"'

    def report(passed, failed, error, tampered, hooked):
        if getpid() != me:  # a fork of the runner (made by the reply) never reports
            exit_(3)
        now = fstat(result_fd)
        if (now.st_dev, now.st_ino) != channel_id:
            exit_(4)  # the descriptor was replaced: nothing is reported, the harness sees no result
        body = ('{"passed":' + enc(passed) + ',"failed":' + enc(failed) + ',"error":' + enc(error)
                + ',"tampered":' + enc(tampered) + ',"hooked":' + enc(hooked) + "}")
        data = (nonce + "\n" + body + "\n").encode("utf-8", "replace")
        while data:
            data = data[write(result_fd, data):]
        exit_(0)

    # what the tests import is imported now, before the reply can shadow it
    try:
        test_code = guard_source(test_source)
        for node in _ast.walk(_ast.parse(test_source)):
            names = [a.name for a in node.names] if b_isinstance(node, _ast.Import) else (
                [node.module] if b_isinstance(node, _ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                spec = importlib.util.find_spec(top) if top != module_name else None
                origin = getattr(spec, "origin", None) or ""
                if spec is not None and not origin.startswith(os.getcwd() + os.sep):
                    __import__(name)
    except BaseException as exc:  # noqa: BLE001
        report([], [], "the tests could not be prepared: " + b_type(exc).__name__ + ": " + b_str(exc)[:300], [], [])

    # the reply's own types are the ones that do not exist yet
    known = set()
    stack = [object]
    while stack:
        cls = stack.pop()
        if cls not in known:
            known.add(cls)
            stack.extend(subclasses(cls))
    plain_types = {int, float, complex, bool, str, bytes, type(None), list, tuple, dict, set, frozenset}
    sequences = (list, tuple, set, frozenset)
    b_any, b_all = any, all
    hooked = []

    def owner_known(cls, dunder):
        for base in type_mro(cls):
            if dunder in type_dict(base):
                return base in known
        return True

    def untrusted(x, budget):
        """Its comparison or arithmetic (or an element's) is code the reply defined."""
        budget[0] -= 1
        if budget[0] < 0:
            return False
        t = b_type(x)
        if t not in known and b_any([not owner_known(t, d) for d in dunders]):
            return True
        if b_isinstance(x, b_dict):
            return b_any([untrusted(k, budget) or untrusted(v, budget) for k, v in b_dict.items(x)])
        if b_isinstance(x, sequences) and t is not b_str:
            return b_any([untrusted(i, budget) for i in x])
        return False

    def plain(x, budget):
        """A value of the built-in types all the way down (what a test supplies as the expected value)."""
        budget[0] -= 1
        t = b_type(x)
        if t not in plain_types:
            return False
        if budget[0] < 0:
            return True
        if t is b_dict:
            return b_all([plain(k, budget) and plain(v, budget) for k, v in b_dict.items(x)])
        if t in sequences:
            return b_all([plain(i, budget) for i in x])
        return True

    def mixed(a, b):
        return (plain(a, [10_000]) and untrusted(b, [10_000])) or (plain(b, [10_000]) and untrusted(a, [10_000]))

    def flag(what):
        message = "an object that claims to equal the answer: its " + what + " is the reply's own code"
        hooked.append(message)
        raise AssertionError(message)

    def bv_cmp(op, a, b):
        if mixed(a, b):
            flag("comparison")
        return ops[op](a, b)

    def bv_bin(op, a, b):
        if mixed(a, b):
            flag("arithmetic")
        return ops[op](a, b)

    def bv_truth(x):
        if untrusted(x, [10_000]):
            flag("truth value")
        return x

    helpers = {"__bv_cmp__": bv_cmp, "__bv_bin__": bv_bin, "__bv_truth__": bv_truth}
    for name, fn in helpers.items():
        setattr(builtins, name, fn)

    modules = sys.modules
    watched = []  # (name, module, namespace snapshot, [(class, class-dict snapshot)])
    for name, mod in b_list(modules.items()):
        try:
            ns = module_dict(mod)
        except TypeError:
            continue
        classes = []
        for value in b_list(ns.values()):
            if b_isinstance(value, type) and getattr(value, "__module__", None) == name:
                classes.append((value, b_dict(type_dict(value))))
        watched.append((name, mod, b_dict(ns), classes))
    sys_lists = {"sys.path": sys.path, "sys.meta_path": sys.meta_path, "sys.path_hooks": sys.path_hooks}
    sys_snap = {k: b_list(v) for k, v in sys_lists.items()}
    modules_snap = b_dict(modules)
    gettrace, getprofile = sys.gettrace, sys.getprofile
    trace0, profile0 = gettrace(), getprofile()
    MISSING = object()
    VOLATILE = {("sys", "path_importer_cache"), ("sys", "last_type"), ("sys", "last_value"), ("sys", "last_traceback")}

    def tampering():
        found = []
        for name, mod, snap, classes in watched:
            ns = module_dict(mod)
            for key, value in snap.items():
                if ns.get(key, MISSING) is not value and (name, key) not in VOLATILE:
                    found.append(name + "." + key)
            for key in ns:
                if key not in snap and b_type(ns[key]) is not b_type(sys) and (name, key) not in VOLATILE:
                    found.append(name + "." + key + " (added)")
            for cls, cls_snap in classes:
                now = type_dict(cls)
                for key, value in cls_snap.items():
                    if now.get(key, MISSING) is not value:
                        found.append(name + "." + type_name(cls) + "." + key)
                for key in now:
                    if key not in cls_snap:
                        found.append(name + "." + type_name(cls) + "." + key + " (added)")
        for key, lst in sys_lists.items():
            if b_list(lst) != sys_snap[key]:
                found.append(key)
        for key, mod in modules_snap.items():
            if modules.get(key, MISSING) is not mod:
                found.append("sys.modules[" + key + "]")
        if gettrace() is not trace0 or getprofile() is not profile0:
            found.append("sys.settrace/setprofile")
        return found[:20]

    def describe(exc):
        """The exception's type and message, without running the reply's own __str__ or __repr__."""
        if b_type(exc) not in known:
            return "an exception of the reply's own type"
        try:
            args = exc.args
            text = b_str(exc) if b_all([plain(a, [1000]) for a in args]) else "(a message built from the reply's objects)"
        except BaseException:  # noqa: BLE001
            text = "?"
        return type_name(b_type(exc)) + ": " + text[:300]

    passed, failed, error = [], [], None
    namespace = {"__name__": "hidden_tests", "__file__": "test_hidden.py", "__builtins__": builtins}
    try:
        exec(test_code, namespace)  # imports the reply
    except BaseException as exc:  # noqa: BLE001
        error = describe(exc)
    tampered = tampering()
    shadowed = [n for n in helpers if namespace.get(n, MISSING) is not MISSING]
    if error is None and not tampered and not shadowed:
        names = b_sorted([n for n in b_list(namespace) if n[:5] == "test_" and b_callable(namespace[n])])
        for name in names:
            try:
                namespace[name]()
                passed.append(name)
            except BaseException as exc:  # noqa: BLE001
                failed.append([name, describe(exc)])
            tampered = tampering() + ["hidden_tests." + n for n in helpers if namespace.get(n, MISSING) is not MISSING]
            if tampered:
                break
    report(passed, failed, error, tampered + ["hidden_tests." + n for n in shadowed], hooked)


if __name__ == "__main__":
    main()
