"""``mockserver proxy``: a validating proxy that checks a real backend's live traffic against the contract.

* :mod:`~mockserver.proxy.forward`: forwards each request unchanged and streams the answer back;
* :mod:`~mockserver.proxy.validator`: judges each exchange against the spec and the vendor rules;
* :mod:`~mockserver.proxy.drift`: counts violations, logs one line each, keeps the last ones;
* :mod:`~mockserver.proxy.app`: the ASGI app, with ``/__admin/drift``; :mod:`~mockserver.proxy.server` runs it;
* recordings (``--record``) are written and read by :mod:`mockserver.recording`.
"""

from mockserver.proxy.app import create_proxy_app
from mockserver.proxy.config import DEFAULT_PORT, ProxyConfig

__all__ = ["DEFAULT_PORT", "ProxyConfig", "create_proxy_app"]
