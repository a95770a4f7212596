#!/usr/bin/env bash
# check_install.sh BUILD_DIR [WORK_DIR] — the installed cachestep CMake package works for a program that embeds
# the engine, with nothing from the source or build tree.
#
#   1. cmake --install BUILD_DIR --prefix WORK_DIR/prefix; the package files, libraries and headers are there,
#      the tools (sigv4-sign, tests, benchmarks) are not.
#   2. Configures and builds examples/embed against that prefix only (CMAKE_PREFIX_PATH, package registries
#      off), with BUILD_DIR's compiler and build type; checks that find_package(cachestep) found the install,
#      that no include path points into the source tree, and that the consumer compiles Asio/Beast as
#      declarations only (BOOST_ASIO_SEPARATE_COMPILATION came with cachestep::engine: the implementation is
#      the one inside the engine library, not a second copy).
#   3. embed_example --help exits 0.
#   4. With CACHESTEP_S3_ENV=FILE (lines S3_ENDPOINT=, S3_ACCESS_KEY=, S3_SECRET_KEY=, S3_BUCKET=; optional
#      S3_REGION=, S3_CA_BUNDLE=; the files tests/servers writes), runs the example against that server with a
#      12 MiB random file: upload (multipart), HEAD, download and compare, list, delete.
#
# WORK_DIR defaults to a new temporary directory, removed on success; on failure it is kept and named.
# Exits non-zero with "check_install: FAILED: <what>" on any failure.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [WORK_DIR]   (CACHESTEP_S3_ENV=FILE to also run against an S3 server)" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi

SOURCE_DIR=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || { echo "check_install: FAILED: no build directory $1" >&2; exit 1; }
if [ $# -eq 2 ]; then
  WORK_DIR=$2
  rm -rf "$WORK_DIR"
  mkdir -p "$WORK_DIR"
  WORK_DIR=$(cd "$WORK_DIR" && pwd)
else
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cachestep-package.XXXXXX")
fi
PREFIX=$WORK_DIR/prefix
EXAMPLE_BUILD=$WORK_DIR/embed-build
STARTED=$SECONDS

step() { printf '== %s\n' "$*"; }
fail() {
  printf 'check_install: FAILED: %s\n' "$1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    printf 'last lines of %s:\n' "$2" >&2
    tail -n 40 "$2" | sed 's/^/    /' >&2
  fi
  if [ -n "$(ls -A "$WORK_DIR")" ]; then
    printf 'check_install: work directory kept: %s\n' "$WORK_DIR" >&2
  else
    rmdir "$WORK_DIR"
  fi
  exit 1
}
# run LOG COMMAND...: runs the command with its output in LOG; fails with LOG's tail.
run() {
  local log=$1; shift
  "$@" >"$log" 2>&1 || fail "$* (exit $?)" "$log"
}
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt" | head -n 1; }

[ -f "$BUILD_DIR/CMakeCache.txt" ] || fail "$BUILD_DIR is not a configured CMake build directory"

# The server's settings, checked before anything is built. Read as data (not sourced): only the keys used
# here, values taken verbatim.
if [ -n "${CACHESTEP_S3_ENV:-}" ]; then
  [ -r "$CACHESTEP_S3_ENV" ] || fail "CACHESTEP_S3_ENV=$CACHESTEP_S3_ENV is not a readable file"
  S3_ENDPOINT='' S3_ACCESS_KEY='' S3_SECRET_KEY='' S3_BUCKET='' S3_REGION='' S3_CA_BUNDLE=''
  while IFS='=' read -r name value || [ -n "$name" ]; do
    case "$name" in
      S3_ENDPOINT | S3_ACCESS_KEY | S3_SECRET_KEY | S3_BUCKET | S3_REGION | S3_CA_BUNDLE) printf -v "$name" '%s' "$value" ;;
    esac
  done <"$CACHESTEP_S3_ENV"
  for name in S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_BUCKET; do
    [ -n "${!name}" ] || fail "$CACHESTEP_S3_ENV has no $name="
  done
fi

# --- 1. install ------------------------------------------------------------------------------------------
step "installing $BUILD_DIR into $PREFIX"
run "$WORK_DIR/install.log" cmake --install "$BUILD_DIR" --prefix "$PREFIX"
config=$(find "$PREFIX" -name cachestepConfig.cmake -path '*/cmake/cachestep/*' | head -n 1)
[ -n "$config" ] || fail "no cmake/cachestep/cachestepConfig.cmake under $PREFIX" "$WORK_DIR/install.log"
package_dir=$(dirname "$config")
for f in cachestepConfigVersion.cmake cachestepTargets.cmake; do
  [ -f "$package_dir/$f" ] || fail "$package_dir/$f was not installed"
done
for h in include/cachestep/engine/client.hpp include/cachestep/engine/io.hpp include/cachestep/sigv4/signer.hpp \
         include/cachestep/archive/pack.hpp include/cachestep/archive/unpack.hpp; do
  [ -f "$PREFIX/$h" ] || fail "$PREFIX/$h was not installed"
done
for lib in cachestep_sigv4 cachestep_engine cachestep_archive; do
  compgen -G "$PREFIX/lib*/lib$lib.*" >/dev/null || fail "lib$lib was not installed under $PREFIX"
done
# Exactly the public headers (not engine/src's private ones), and none of the tools.
public_headers=$( (cd "$SOURCE_DIR/sigv4/include" && find cachestep -name '*.hpp'
                   cd "$SOURCE_DIR/engine/include" && find cachestep -name '*.hpp'
                   cd "$SOURCE_DIR/archive/include" && find cachestep -name '*.hpp') | sort)
installed_headers=$(cd "$PREFIX/include" && find . -type f | sed 's|^\./||' | sort)
[ "$public_headers" = "$installed_headers" ] \
  || fail "the installed headers differ from sigv4/include + engine/include + archive/include: $(diff <(echo "$public_headers") <(echo "$installed_headers") | tr '\n' ' ')"
for tool in sigv4-sign sigv4_tests engine_tests archive_tests sigv4_bench embed_example; do
  [ -z "$(find "$PREFIX" -name "$tool" -print -quit)" ] || fail "$tool was installed; only the libraries and cache-step are"
done
echo "   $(find "$PREFIX" -type f | wc -l) files; package files in ${package_dir#"$PREFIX"/}"

# --- 2. build the example against the install only -------------------------------------------------------
step "building examples/embed against $PREFIX"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
config_args=(-DCMAKE_PREFIX_PATH="$PREFIX"
             -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
             -DCMAKE_CXX_COMPILER="$(cache_value CMAKE_CXX_COMPILER)"
             -DCMAKE_BUILD_TYPE="$(cache_value CMAKE_BUILD_TYPE)")
launcher=$(cache_value CMAKE_CXX_COMPILER_LAUNCHER)
[ -n "$launcher" ] && config_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
# A sanitizer build's static libraries need the sanitizer runtime in the consumer too.
sanitize=$(cache_value CACHESTEP_SANITIZE)
[ -n "$sanitize" ] && config_args+=(-DCMAKE_CXX_FLAGS="-fsanitize=$sanitize" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize")
run "$WORK_DIR/configure.log" cmake -S "$SOURCE_DIR/examples/embed" -B "$EXAMPLE_BUILD" "${generator[@]}" "${config_args[@]}"
found_dir=$(sed -n 's/^cachestep_DIR:PATH=//p' "$EXAMPLE_BUILD/CMakeCache.txt")
[ "$found_dir" = "$package_dir" ] || fail "find_package(cachestep) used '$found_dir', not the install ($package_dir)"
run "$WORK_DIR/build.log" cmake --build "$EXAMPLE_BUILD" --verbose
example=$EXAMPLE_BUILD/embed_example
[ -x "$example" ] || fail "the build made no $example" "$WORK_DIR/build.log"
# The example's compile line, from the build log (ninja and make both print it with --verbose).
compile_line=$(grep -E -- '-c [^ ]*examples/embed/main\.cpp' "$WORK_DIR/build.log" | tail -n 1)
[ -n "$compile_line" ] || fail "no compile line for main.cpp in the build log" "$WORK_DIR/build.log"
case "$compile_line" in
  *"$SOURCE_DIR/engine/"* | *"$SOURCE_DIR/sigv4/"* | *"$SOURCE_DIR/archive/"*) fail "the example was compiled against the source tree: $compile_line" ;;
esac
link_line=$(grep -E -- '-o [^ ]*embed_example( |$)' "$WORK_DIR/build.log" | tail -n 1)
[[ "$link_line" == *"$PREFIX/lib"*"/libcachestep_engine."* ]] \
  || fail "the example was not linked with the installed libcachestep_engine: $link_line"
case "$link_line" in
  *"$BUILD_DIR/engine/"* | *"$BUILD_DIR/sigv4/"* | *"$BUILD_DIR/archive/"*) fail "the example was linked with the build tree's libraries: $link_line" ;;
esac
for define in BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION BOOST_ASIO_NO_DEPRECATED; do
  [[ "$compile_line" == *"-D$define"* ]] || fail "cachestep::engine did not pass -D$define to the consumer: $compile_line"
done
[[ "$compile_line" == *"-I$PREFIX/include"* || "$compile_line" == *"-isystem $PREFIX/include"* ]] \
  || fail "the example did not get $PREFIX/include as an include path: $compile_line"
echo "   built $example"

# --- 3. --help ----------------------------------------------------------------------------------------------
step "embed_example --help"
help_out=$("$example" --help 2>&1) || fail "embed_example --help exited $? (expected 0): $help_out"
[[ "$help_out" == *"usage: embed_example"* ]] || fail "embed_example --help printed no usage line: $help_out"
echo "   exit 0: ${help_out%%$'\n'*}"

# --- 4. against a real server ------------------------------------------------------------------------------
if [ -n "${CACHESTEP_S3_ENV:-}" ]; then
  key="cache-step-package-check/$(date +%s)-$$/embed.bin"
  step "embed_example against $S3_ENDPOINT: 12 MiB to s3://$S3_BUCKET/$key"
  head -c $((12 << 20)) /dev/urandom >"$WORK_DIR/random-12MiB.bin"
  s3_env=(-u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_REGION -u AWS_DEFAULT_REGION
          -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY")
  [ -n "$S3_REGION" ] && s3_env+=(AWS_REGION="$S3_REGION")
  [ -n "$S3_CA_BUNDLE" ] && s3_env+=(AWS_CA_BUNDLE="$S3_CA_BUNDLE")
  run_started=$(date +%s%N)
  if ! env "${s3_env[@]}" "$example" --endpoint "$S3_ENDPOINT" --bucket "$S3_BUCKET" --key "$key" \
         "$WORK_DIR/random-12MiB.bin" >"$WORK_DIR/s3-run.log" 2>&1; then
    fail "embed_example against $S3_ENDPOINT exited non-zero" "$WORK_DIR/s3-run.log"
  fi
  grep -q '^all steps succeeded$' "$WORK_DIR/s3-run.log" || fail "embed_example exited 0 without reporting success" "$WORK_DIR/s3-run.log"
  sed 's/^/   /' "$WORK_DIR/s3-run.log"
  echo "   ($(( ($(date +%s%N) - run_started) / 1000000 )) ms)"
else
  step "CACHESTEP_S3_ENV not set: not run against a server"
fi

step "package check passed in $((SECONDS - STARTED)) s"
[ $# -eq 2 ] || rm -rf "$WORK_DIR"
