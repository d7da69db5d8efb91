"""Starts moto's server with the project's extension installed.

Usage: python serve.py -H 127.0.0.1 -p PORT   (same arguments as moto_server)
       python serve.py -H 127.0.0.1 --port-file FILE
                                             (the system picks a free port; its number is
                                             written to FILE once the server listens)
       python serve.py --self-check          (install, verify, exit)

Run it with the interpreter of the venv moto is installed in.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Keep the source tree free of __pycache__ folders.
sys.dont_write_bytecode = True

# AWS-managed policies (ReadOnlyAccess, SecurityAudit, ...) exist in real accounts;
# moto loads them only when asked, and templates attaching them must work.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def main(argv):
    import mcloud_moto_ext

    try:
        mcloud_moto_ext.install()
    except mcloud_moto_ext.HookMissing as e:
        print(f"moto extension self-check FAILED: {e}", file=sys.stderr, flush=True)
        return 3
    if argv == ["--self-check"]:
        print("moto extension self-check passed", flush=True)
        return 0
    print("moto extension installed; self-check passed", file=sys.stderr, flush=True)
    if "--port-file" in argv:
        return serve_on_free_port(argv)
    from moto import server

    server.main(argv)
    return 0


def serve_on_free_port(argv):
    """Binds port 0 and reports the port the system chose.

    Picking a free port in the caller and handing it over leaves a window in which another
    server can take it; binding here leaves none, so parallel tests never share a moto.
    """
    import argparse
    import signal

    from moto import server
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args(argv)

    app = server.DomainDispatcherApplication(server.create_backend_app)
    app.debug = True
    srv = make_server(
        args.host,
        0,
        app,
        threaded=True,
        request_handler=server.MotoRequestHandler,
    )
    port = srv.socket.getsockname()[1]
    # moto builds some URLs in its answers (queues, presigned links) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    signal.signal(signal.SIGTERM, server.signal_handler)
    signal.signal(signal.SIGINT, server.signal_handler)
    # Written whole under another name first: the reader never sees half a number.
    partial = args.port_file + ".partial"
    with open(partial, "w") as f:
        f.write(f"{port}\n")
    os.replace(partial, args.port_file)
    print(f"moto listening on {args.host}:{port}", file=sys.stderr, flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
