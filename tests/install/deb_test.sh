#!/usr/bin/env bash
# The Debian package (docs/install.md): `cpack -G DEB` builds it; it holds the binaries, the
# public API library and headers, libduckdb.so and the CMake package under /usr; its Depends
# come from dpkg-shlibdeps; unpacked anywhere (not installed: tests do not touch /usr) the
# binary runs with an empty environment.
#   deb_test.sh <build dir> <version>
set -euo pipefail
BUILD=$(cd "$1" && pwd)
VERSION=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/aq_deb_test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }

(cd "$T" && cpack -G DEB -B "$T/out" --config "$BUILD/CPackConfig.cmake" >"$T/cpack.log" 2>&1) ||
  fail "cpack: $(cat "$T/cpack.log")"
deb=$(ls "$T"/out/aqueducts_"$VERSION"*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no package in $T/out: $(ls "$T/out"; cat "$T/cpack.log")"
dpkg-deb --contents "$deb" | awk '{print $6}' >"$T/contents.txt"
for f in ./usr/bin/aqueducts ./usr/bin/aqueducts-executor ./usr/lib/libduckdb.so \
         ./usr/lib/libaqueducts.so ./usr/include/aqueducts/aqueducts.h \
         ./usr/lib/cmake/aqueducts/aqueductsConfig.cmake; do
  grep -q "^$f\( ->.*\)\?$" "$T/contents.txt" || fail "the package lacks $f"
done
depends=$(dpkg-deb --field "$deb" Depends)
for lib in libc6 libstdc++6 libyaml-cpp libodbc libroaring libcpp-httplib; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb --extract "$deb" "$T/root"
env -i PATH=/usr/bin:/bin "$T/root/usr/bin/aqueducts" --version | grep -q "$VERSION" ||
  fail "the packaged aqueducts --version"
echo "deb_test: ok ($(du -h "$deb" | cut -f1) $(basename "$deb"); Depends: $depends)"
