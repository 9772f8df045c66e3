#!/usr/bin/env bash
# The installed library, used as an application would (ci/install-test.sh): install into a
# temporary prefix, build apps/example against it with pkg-config and with find_package, run it.
# ctest gives the built spherecl as $1 (unused: the script builds and installs its own copy).
set -eu
src=${SPHERECL_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
exec bash "$src/ci/install-test.sh" "$src"
