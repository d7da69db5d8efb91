"""Closes the gaps between moto and real AWS that the provider's tests depend on.

moto is pinned exactly (see PINNED_MOTO): every patch here hooks into moto
internals, and `install()` verifies each hook before and after patching, so an
upgrade that moves one fails at server start with the hook's name instead of
letting tests pass against a silently weaker emulator.

The package name must not start with "moto": moto's server treats modules whose
name starts with "moto" as its own service modules.
"""

import moto

from . import (cfn_autodeploy, cfn_iam, cfn_request_tokens, cfn_stack_failures, cfn_stacksets, faults,
               iam_oidc, org_scale, rate_model, sts_web_identity)

PINNED_MOTO = "5.2.5"

# cfn_autodeploy wraps what cfn_stacksets installs, so it comes after it.
_PATCHES = (iam_oidc, cfn_iam, cfn_request_tokens, cfn_stack_failures, cfn_stacksets, sts_web_identity, faults,
            org_scale, cfn_autodeploy, rate_model)
_installed = False


class HookMissing(RuntimeError):
    """A moto internal this extension patches is not where it was expected."""


def require(condition, what):
    """Self-check helper: raise HookMissing naming the hook when `condition` is false."""
    if not condition:
        raise HookMissing(
            f"moto {moto.__version__}: {what}; the extension was written against moto "
            f"{PINNED_MOTO} - re-check acceptance-tests/moto_ext before changing the pin"
        )


def install():
    """Checks every hook, applies every patch, then checks the patches took effect."""
    global _installed
    if _installed:
        return
    require(
        moto.__version__ == PINNED_MOTO,
        f"installed version {moto.__version__} differs from the pin {PINNED_MOTO}",
    )
    for patch in _PATCHES:
        patch.check_hooks(require)
    for patch in _PATCHES:
        patch.install()
    _installed = True
    self_check()


def self_check():
    """Verifies the installed patches; returns a report served at /_mcloud/self-check."""
    report = {"moto_version": moto.__version__, "patches": []}
    for patch in _PATCHES:
        patch.verify(require)
        report["patches"].append(patch.__name__.rsplit(".", 1)[-1])
    report["ok"] = True
    return report
