import os
import sys

from .config import load_config
from .greet import greeting

print(greeting(load_config(sys.argv[1] if len(sys.argv) > 1 else None, os.environ)))
