"""GPU telemetry via NVML (nvidia-ml-py). Absent GPUs are recorded as absent, never faked."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

HOT_C = 82.0  # a run above this is flagged: thermal throttling distorts speed figures


@dataclass
class GpuSample:
    available: bool
    name: str | None = None
    peak_vram_bytes: int | None = None
    peak_temp_c: float | None = None
    reason: str = ""

    @property
    def too_hot(self) -> bool:
        return bool(self.peak_temp_c and self.peak_temp_c > HOT_C)


class GpuTelemetry:
    """Samples used VRAM and temperature of GPU 0 in a thread while a probe runs."""

    def __init__(self, interval_s: float = 0.2):
        self.interval_s = interval_s
        self.sample = GpuSample(False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._nvml: Any = None
        self._handle: Any = None

    def __enter__(self) -> GpuTelemetry:
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            name = pynvml.nvmlDeviceGetName(self._handle)
            self.sample = GpuSample(True, name.decode() if isinstance(name, bytes) else name, 0, 0.0)
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        except Exception as exc:  # noqa: BLE001 - no driver, no device: recorded as absent
            self.sample = GpuSample(False, reason=f"no NVIDIA GPU: {type(exc).__name__}")
        return self

    def _run(self) -> None:
        nv = self._nvml
        while not self._stop.is_set():
            mem = nv.nvmlDeviceGetMemoryInfo(self._handle).used
            temp = nv.nvmlDeviceGetTemperature(self._handle, nv.NVML_TEMPERATURE_GPU)
            self.sample.peak_vram_bytes = max(self.sample.peak_vram_bytes or 0, int(mem))
            self.sample.peak_temp_c = max(self.sample.peak_temp_c or 0.0, float(temp))
            time.sleep(self.interval_s)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=1)
        if self._nvml:
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001 - shutting down a driver that is already gone
                pass
