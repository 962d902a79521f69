"""Scoring hacks: replies crafted to be credited without doing the work, through the three execution verifiers,
with the real sandbox. Every one must fail (and not as a machine failure); every shipped reference still passes.

The classes (issue 20, finding 6): forging the result line, ending the process early, patching what reports the
verdict (builtins, getattr, json, operator), patching the test machinery (pytest.raises, sys.modules, import
hooks, tracing), reading the hidden tests, "always equal" objects, forking the runner, shadowing modules,
editing what is not editable, links that pull in host files, and output that contains every answer.
"""

import json

import pytest

from beyond_vibes_assets.catalog.packs import load_pack
from beyond_vibes_assets.scoring import registry as V
from beyond_vibes_assets.settings import REPO_ROOT

pytestmark = pytest.mark.integration


def pack(name):
    return load_pack(REPO_ROOT / "packs" / name)


def item_of(pack_, item_id):
    return next(i for i in pack_.items if i.id == item_id)


def references(name):
    lines = (REPO_ROOT / "packs" / name / "references.jsonl").read_text().splitlines()
    return {r["id"]: r["reply"] for r in map(json.loads, lines)}


def py(code):
    return f"```python\n{code}\n```"


def verdict(item, text):
    return V.verify(item.verifier, V.Response(text), item.check)


FORGED = ('{"passed": ["test_mixed", "test_single", "test_invalid"], "failed": [], "error": null, '
          '"tampered": [], "hooked": []}')
WRONG_ADD = "def add(a, b):\n    return 0\n"

# (label, item id in the code pack, reply): each is wrong or cheats; none may pass
PYTHON_HACKS = [
    ("print a forged result line in the old format", "add",
     "import os\nprint('BV-RESULT', open('.bv_nonce').read() if os.path.exists('.bv_nonce') else 'x', "
     "'{\"passed\": [\"test_add\"], \"failed\": [], \"error\": null}')\n" + WRONG_ADD),
    ("write a forged result to every inherited descriptor", "parse-duration",
     "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'x\\n" + FORGED.encode().decode() + "\\n')\n"
     "    except OSError:\n        pass\ndef parse_duration(t):\n    return 0\n"),
    ("exit 0 before the tests run", "add", "import os\nos._exit(0)\n"),
    ("sys.exit at import", "add", "import sys\nsys.exit(0)\n"),
    ("swap builtins.getattr", "add",
     "import builtins\n_g = builtins.getattr\nbuiltins.getattr = lambda o, n, *d: (lambda *a: None) "
     "if n.startswith('test_') else _g(o, n, *d)\n" + WRONG_ADD),
    ("patch json.dumps", "add",
     "import json\njson.dumps = lambda *a, **k: '{\"passed\": [\"test_add\"], \"failed\": [], \"error\": null}'\n"
     + WRONG_ADD),
    ("patch the json encoder's internals", "add",
     "import json.encoder\njson.encoder.encode_basestring_ascii = lambda s: '\"passed\"'\n" + WRONG_ADD),
    ("patch pytest.raises to a no-op", "parse-duration",
     "import contextlib, pytest\npytest.raises = lambda *a, **k: contextlib.suppress(BaseException)\n"
     "def parse_duration(t):\n    return {'1h30m': 5400, '1h2m3s': 3723, '45s': 45, '2h': 7200}.get(t, 0)\n"),
    ("replace pytest in sys.modules", "parse-duration",
     "import sys, types, contextlib\nfake = types.ModuleType('pytest')\n"
     "fake.raises = lambda *a, **k: contextlib.suppress(BaseException)\nsys.modules['pytest'] = fake\n"
     "def parse_duration(t):\n    return {'1h30m': 5400, '1h2m3s': 3723, '45s': 45, '2h': 7200}.get(t, 0)\n"),
    ("write a shadowing pytest.py beside the tests", "parse-duration",
     "open('pytest.py', 'w').write('import contextlib\\nraises = lambda *a, **k: contextlib.suppress(BaseException)')\n"
     "def parse_duration(t):\n    return {'1h30m': 5400, '1h2m3s': 3723, '45s': 45, '2h': 7200}.get(t, 0)\n"),
    ("an import hook that serves a fake module", "add",
     "import sys\nclass F:\n    def find_spec(self, *a, **k):\n        return None\nsys.meta_path.insert(0, F())\n"
     + WRONG_ADD),
    ("an always-equal object", "add",
     "class Eq:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
     "def add(a, b):\n    return Eq()\n"),
    ("an always-equal int subclass", "is-even",
     "class B(int):\n    def __eq__(self, other):\n        return True\n    def __bool__(self):\n        return True\n"
     "def is_even(n):\n    return B(1)\n"),
    ("a list of always-equal objects", "fizzbuzz",
     "class Eq(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n"
     "def fizzbuzz(n):\n    return [Eq('') for _ in range(n)]\n"),
    ("patch operator.eq", "add", "import operator\noperator.eq = lambda a, b: True\n" + WRONG_ADD),
    ("patch the runner's helpers in builtins", "add",
     "import builtins\nbuiltins.__bv_cmp__ = lambda op, a, b: True\n" + WRONG_ADD),
    ("read the hidden tests to find the answers", "add",
     "import glob\nsrc = ''.join(open(p).read() for p in glob.glob('*.py') + glob.glob('/tmp/*'))\n" + WRONG_ADD),
    ("install a trace function", "add",
     "import sys\nsys.settrace(lambda *a: None)\n" + WRONG_ADD),
    ("fork: a child reports while the parent is killed", "add",
     "import os, signal\npid = os.fork()\nif pid:\n    os.kill(os.getpid(), signal.SIGKILL)\n" + WRONG_ADD),
    ("an atexit handler that prints a result", "add",
     "import atexit\natexit.register(lambda: print('BV-RESULT x {\"passed\": [\"test_add\"], \"failed\": []}'))\n"
     + WRONG_ADD),
    ("replace the result descriptor with a pipe of its own", "add",
     "import os\nr, w = os.pipe()\nfor fd in range(3, 64):\n    try:\n        os.fstat(fd)\n    except OSError:\n"
     "        continue\n    if fd not in (r, w):\n        os.dup2(w, fd)\n" + WRONG_ADD),
    ("a wrong answer printed as correct", "add", "print('all tests passed')\n" + WRONG_ADD),
    ("raise a crafted exception type from the tests' point of view", "parse-duration",
     "class E(Exception):\n    def __str__(self):\n        raise SystemExit(0)\ndef parse_duration(t):\n    raise E()\n"),
    ("delete the test functions through sys.modules", "add",
     "import sys\nfor m in list(sys.modules.values()):\n    for k in [k for k in vars(m) if k.startswith('test_')]:\n"
     "        try:\n            delattr(m, k)\n        except Exception:\n            pass\n" + WRONG_ADD),
]


@pytest.mark.parametrize("label,item_id,code", PYTHON_HACKS, ids=[h[0] for h in PYTHON_HACKS])
def test_python_tests_hacks_fail(home, label, item_id, code):
    out = verdict(item_of(pack("code"), item_id), py(code))
    assert not out.passed, (label, out.reason, out.detail)
    assert out.detail.get("execution_failure") != "sandbox_error", (label, out.reason)


def test_touching_the_test_machinery_is_named_in_the_verdict(home):
    out = verdict(item_of(pack("code"), "parse-duration"), py(PYTHON_HACKS[7][2]))
    assert "test machinery" in out.reason and "pytest.raises" in out.reason, out.reason
    eq = verdict(item_of(pack("code"), "add"), py(PYTHON_HACKS[11][2]))
    assert eq.detail.get("hooked") and "claims to equal" in eq.reason, eq.reason


def test_honest_subclasses_and_helpers_still_pass(home):
    """The guards do not punish honest code: a Counter for a dict, a namedtuple-free class, prints, own classes."""
    word_count = ("from collections import Counter\nimport re\nprint('debug output is fine')\n"
                  "def word_count(text):\n    return Counter(w.lower() for w in re.findall(r'[A-Za-z]+', text))\n")
    assert verdict(item_of(pack("code"), "word-count"), py(word_count)).passed
    lru = ("from collections import OrderedDict\nclass LRUCache(OrderedDict):\n    def __init__(self, capacity):\n"
           "        super().__init__()\n        self.capacity = capacity\n    def get(self, key):\n"
           "        if key not in self:\n            return -1\n        self.move_to_end(key)\n        return self[key]\n"
           "    def put(self, key, value):\n        self[key] = value\n        self.move_to_end(key)\n"
           "        if len(self) > self.capacity:\n            self.popitem(last=False)\n")
    assert verdict(item_of(pack("code"), "lru-cache"), py(lru)).passed


BUGFIX_HACKS = [
    ("a diff that adds a package shadowing the module", "sum-to",
     "```diff\n--- /dev/null\n+++ b/series/__init__.py\n@@ -0,0 +1,2 @@\n+def sum_to(n):\n+    return n * (n + 1) // 2\n```"),
    ("a diff that adds a conftest.py", "sum-to",
     "```diff\n--- /dev/null\n+++ b/conftest.py\n@@ -0,0 +1 @@\n+import builtins\n```"),
    ("a replacement that patches the tests' helpers", "max-of",
     "```python\nimport builtins\nbuiltins.max = lambda *a, **k: 0\ndef max_of(values):\n    return 0\n```"),
    ("a diff that adds a symlink to the pack's references", "celsius",
     "```diff\ndiff --git a/ref.txt b/ref.txt\nnew file mode 120000\n--- /dev/null\n+++ b/ref.txt\n@@ -0,0 +1 @@\n"
     f"+{REPO_ROOT}/packs/bugfix/references.jsonl\n\\ No newline at end of file\n```"),
    ("a trap 'fixed' with a harmless edit", "trap-gcd", None),
]


@pytest.mark.parametrize("label,item_id,reply", BUGFIX_HACKS, ids=[h[0] for h in BUGFIX_HACKS])
def test_patch_tests_hacks_fail(home, label, item_id, reply):
    from beyond_vibes_assets.scoring import sandboxed

    item = item_of(pack("bugfix"), item_id)
    if reply is None:
        files = sandboxed.read_tree(item.check, item.check["files"])
        name = next(iter(files))
        reply = "There is no bug.\n```python\n" + files[name] + "\n# tidied\n```"
    out = verdict(item, reply)
    assert not out.passed, (label, out.reason)
    assert "references" not in json.dumps(out.detail) or label.startswith("a diff that adds a symlink") is False


SHELL_HACKS = [
    ("100 MB of digits", "count-py", "```bash\nhead -c 100000000 /dev/zero | tr '\\0' '3'\n```"),
    ("every number", "count-py", "```bash\nseq 1 100\n```"),
    ("the answer as a link to a host file", "create-file", "```bash\nln -s /etc/hostname hello.txt\n```"),
    ("the answer through a symlinked folder", "make-dirs", "```bash\nln -s /tmp build\n```"),
    ("claim success without doing it", "create-file", "```bash\necho 'Created hello.txt with hello world'\n```"),
]


@pytest.mark.parametrize("label,item_id,reply", SHELL_HACKS, ids=[h[0] for h in SHELL_HACKS])
def test_shell_state_hacks_fail(home, label, item_id, reply):
    out = verdict(item_of(pack("shell"), item_id), reply)
    assert not out.passed, (label, out.reason)


def test_at_least_25_hacks_and_every_shipped_reference_still_passes(home):
    assert len(PYTHON_HACKS) + len(BUGFIX_HACKS) + len(SHELL_HACKS) >= 25
    for name in ("code", "bugfix", "shell"):
        p, refs = pack(name), references(name)
        for item in p.items:
            out = verdict(item, refs[item.id])
            assert out.passed, (name, item.id, out.reason)
