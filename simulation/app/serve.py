"""Start the teaching app's web server (what ``secmig app`` runs).

Checks the address first so that a busy port or a bad host is a clear usage error, warns
when the app is reachable from the network (any host but a loopback address) and when Solara's
front-end files are neither cached nor likely to be fetched, then hands over to Solara's own
server runner (uvicorn) in production mode.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import warnings

from simulation.app import assets

APP = "simulation.app.page"


class AddressError(ValueError):
    """The host/port cannot be served (bad host, port out of range or in use)."""


def check_address(host: str, port: int) -> None:
    """Fail early, with a message a teacher can act on, if we cannot listen there."""
    if not 1 <= port <= 65535:
        raise AddressError(f"port {port} is out of range (allowed: 1..65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise AddressError(f"cannot use host {host!r}: {err.strerror}") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as err:
            raise AddressError(f"cannot listen on {host}:{port} ({err.strerror}); is another "
                               "app running there? Try another --port") from None


def is_loopback(host: str) -> bool:
    """True if every address ``host`` stands for is a loopback address (127.0.0.0/8, ::1):
    only this machine can connect. False for 0.0.0.0 / :: (every network interface), a
    network address or a name that does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    try:
        return bool(infos) and all(
            ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)
    except ValueError:
        return False


def network_warning(host: str, port: int) -> str:
    """The warning printed when the app listens on more than this machine ('' otherwise)."""
    if is_loopback(host):
        return ""
    where = ("every network interface of this machine" if host in ("0.0.0.0", "::", "")
             else f"the network address {host}")
    return (f"WARNING: the app listens on {where} (port {port}): anyone who can reach this "
            "machine on the network can open it, with no password, and run models on it. Use "
            "this only on a network you trust (e.g. a classroom); leave out --host (the "
            "default, 127.0.0.1) to keep the app to this machine.")


def url(host: str, port: int) -> str:
    """The address to open in a browser (loopback for 0.0.0.0)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1") else host
    return f"http://{shown}:{port}"


def serve(host: str, port: int, *, toy: bool, open_browser: bool) -> None:
    """Run the server until Ctrl+C; the address is printed before it starts."""
    check_address(host, port)
    os.environ["SECMIG_APP_WORLD"] = "toy" if toy else "norway"
    # no usage reports to solara.dev from a classroom machine (read at solara's import)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    if assets.missing():
        print(f"note: front-end files are not cached in {assets.cache_dir()}; Solara fetches "
              "them on first load (needs internet). Offline, run "
              "`python -m simulation.app.assets` once (needs npm).", file=sys.stderr)
    print(f"secmig teaching app: open {url(host, port)}  (Ctrl+C stops it)", flush=True)
    warning = network_warning(host, port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # Mesa's ComponentsView (defined in the module the page imports its controls from)
    # returns early before a hook; Solara's hook checker flags that at import, but the page
    # does not use ComponentsView, so nothing runs out of order
    warnings.filterwarnings("ignore", message=r".*ComponentsView: `use_state` found despite")
    import click
    from solara.__main__ import run

    args = [APP, "--host", host, "--port", str(port), "--production", "--no-check-version",
            "--open" if open_browser else "--no-open"]
    try:
        run.main(args=args, prog_name="secmig app", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):  # Ctrl+C or SIGTERM: a normal stop
        print("secmig teaching app stopped", file=sys.stderr)
