"""The judge a pack run lends its `llm_judge` items (scoring/judged.py): the configured judge (models.yaml's
`judges:`), served only when a call misses the cache and then once for the run, asked with the same DSPy program,
evidence view and call cache as the episode judges, so a second scoring of the same replies asks nothing.

Trust is measured, not assumed: when the item names a labels file (people's 1-5 scores on replies, the format of
judges/labels/), the judge scores every labelled reply (cached the same way) and its agreement decides trust by the
rule compiled episode judges follow (the low end of kappa's interval, enough labels, enough coverage). Without
labels every verdict is marked untrusted. The program is the uncompiled baseline: pack items have no compile step.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from ..catalog.labels import load_labels, with_criteria
from ..catalog.rubrics import Criterion, Rubric, load_rubric
from . import calls as call_cache
from .calibration import tally
from .compiling import trust
from .judge_models import ResolvedJudge, resolve_judges
from .program import criterion_text, judge_once, new_program, program_bytes
from .view import judge_view

MIN_KAPPA, MIN_COVERAGE = 0.4, 0.8  # the defaults episode judges are trusted by (judge_program's config)


class PackItemJudge:
    """One run's judge for pack items: lazily resolved and served, closed with the run (`close`)."""

    def __init__(self, catalog: Any, llama_server: Any, store: Any, log=print):
        self.catalog, self.llama_server, self.store, self.log = catalog, llama_server, store, log
        self.sent = self.cached = 0
        self._stack = contextlib.ExitStack()
        self._lock = threading.Lock()
        self._judges: list[ResolvedJudge] | None = None
        self._lms: dict[str, Any] = {}
        self._broken: dict[str, BaseException] = {}
        self._trust: dict[tuple, dict[str, Any]] = {}
        self._rubrics: dict[tuple[str, float], Rubric] = {}
        self._program = new_program()
        self._program_hash = program_bytes(self._program)[1]

    def close(self) -> None:
        self._stack.close()

    def counts(self) -> tuple[int, int]:
        return self.sent, self.cached

    def judge(self, rubric_path: Path, labels: Path | None, judge: str | None, prompt: str, reply: str) -> dict[str, Any]:
        with self._lock:
            rubric = self._rubric(rubric_path)
            chosen = self._choose(judge)
            out: dict[str, Any] = {"judge": chosen.name, **self._trust_of(rubric, labels, chosen)}
            sample = {"task": prompt, "final_answer": reply, "diff": "", "transcript": ""}
            scores, rationales = {}, {}
            for criterion in rubric.model.criteria:
                verdict = self._ask(chosen, criterion, sample)
                if verdict.get("failure_mode") or verdict.get("score") is None:
                    return {**out, "failure": f"{criterion.name}: {verdict.get('failure_mode') or 'no score'}: "
                                              f"{str(verdict.get('rationale') or '')[:200]}"}
                scores[criterion.name], rationales[criterion.name] = verdict["score"], verdict.get("rationale", "")
            return {**out, "scores": scores, "rationales": rationales}

    def _rubric(self, path: Path) -> Rubric:
        key = (str(path), path.stat().st_mtime)
        if key not in self._rubrics:
            self._rubrics[key] = load_rubric(path, for_sims=False)
        return self._rubrics[key]

    def _choose(self, name: str | None) -> ResolvedJudge:
        if self._judges is None:
            self._judges = resolve_judges(self.catalog, log=self.log, store=self.store)
        if not self._judges:
            raise RuntimeError(f"no judge in {self.catalog.catalog().path}: add one under `judges:`")
        if name is None:
            return self._judges[0]
        for judge in self._judges:
            if judge.name == name:
                return judge
        raise RuntimeError(f"no judge {name!r} under `judges:` (there are: {', '.join(j.name for j in self._judges)})")

    def _lm(self, judge: ResolvedJudge) -> Any:
        if judge.name in self._broken:
            raise RuntimeError(f"judge {judge.name} could not be served: {self._broken[judge.name]}")
        if judge.name not in self._lms:
            try:
                self._lms[judge.name] = self._stack.enter_context(judge.lm(self.llama_server, self.store, self.log))[0]
            except Exception as exc:
                self._broken[judge.name] = exc
                raise
        return self._lms[judge.name]

    def _ask(self, judge: ResolvedJudge, criterion: Criterion, sample: dict[str, str]) -> dict[str, Any]:
        text = criterion_text(criterion)
        evidence = judge_view(sample, list(criterion.sees), budget=judge.config.evidence_chars)
        content = call_cache.content_hash({"criterion": text, "evidence": evidence})
        key = call_cache.call_key(self._program_hash, judge.identity, content, criterion.name)
        hit = call_cache.cached(key)
        if hit is not None:
            self.cached += 1
            return hit
        verdict = judge_once(self._program, self._lm(judge), text, evidence).to_dict()
        self.sent += 1
        call_cache.store(key, verdict)
        return verdict

    def _trust_of(self, rubric: Rubric, labels: Path | None, judge: ResolvedJudge) -> dict[str, Any]:
        """The judge's agreement with the pack's labels, measured once per run (its calls cached like any other)."""
        key = (rubric.fingerprint, str(labels), labels.stat().st_mtime if labels and labels.exists() else None, judge.identity)
        if key in self._trust:
            return self._trust[key]
        if labels is None or not labels.exists():
            found = {"trusted": False, "trust_reason": "no labels: the judge's agreement with people is unmeasured",
                     "kappa": None}
        else:
            pairs = list(with_criteria(rubric, load_labels(labels, rubric)))
            held = [_Labelled(label.score, label.id, criterion, label.sample.model_dump()) for label, criterion in pairs]
            agreement = tally(held, lambda ex: self._ask(judge, ex.criterion_model, ex.sample))
            figures = agreement.to_dict()
            trusted, reason = trust(figures, agreement.n, MIN_KAPPA, MIN_COVERAGE)
            found = {"trusted": trusted, "trust_reason": f"{reason} on {agreement.n} label(s) of {labels.name}",
                     "kappa": figures.get("kappa")}
        self._trust[key] = found
        return found


class _Labelled:
    """A label as calibration.tally reads it (score, label_id) with what the judge needs to be asked about it."""

    def __init__(self, score: int, label_id: str, criterion: Criterion, sample: dict[str, str]):
        self.score, self.label_id, self.criterion_model, self.sample = score, label_id, criterion, sample
