#!/usr/bin/env python3
"""Container health probe: exit 0 when the app answers GET /health on $PORT.

Python's standard library only, because the slim image has no curl or wget.
"""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PORT', '{{ cookiecutter.port }}')}/health"
# No proxy: an HTTP(S)_PROXY set for the app must not intercept a loopback probe.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(url, timeout=3) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as error:
    sys.exit(f"unhealthy: {url}: {error}")
