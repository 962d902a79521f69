"""The sandbox untrusted code runs in, shared by the agent (episode workspaces and tools) and the execution
verifiers (pack replies): workspace.py (the workspace and the command), mounts.py (what it sees), budget.py
(what it may use), hostgit.py (the harness's git), safefs.py (reading what it wrote), process.py (running it).
The threat model is in the README's sandbox section."""

from .budget import BudgetUnavailable
from .process import kill_tree
from .workspace import Limits, PathRefused, SandboxUnavailable, ShellResult, Workspace, isolation_problem

__all__ = ["BudgetUnavailable", "Limits", "PathRefused", "SandboxUnavailable", "ShellResult", "Workspace",
           "isolation_problem", "kill_tree"]
