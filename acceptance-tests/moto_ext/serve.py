"""Starts moto's server with the project's extension installed.

Usage: python serve.py -H 127.0.0.1 -p PORT   (same arguments as moto_server)
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
    from moto import server

    server.main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
