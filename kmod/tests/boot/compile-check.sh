#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# compile-check.sh: build vpc.ko on Linux with FreeBSD's own bsd.kmod.mk,
# the kernel's own flags and -Werror, then check that every symbol vpc.ko
# needs is one the kernel defines.  Nothing of FreeBSD is built here: the
# tree provides headers and share/mk, Debian provides bmake, clang and lld.
#
#   FREEBSD_SRC=/path/to/freebsd-src kmod/tests/boot/compile-check.sh
#
# Variables:
#   FREEBSD_SRC   (required) a FreeBSD 14 source tree (sys/ and share/mk/)
#   KERNBUILDDIR  a kernel's build directory (opt_*.h): build with exactly
#                 that kernel's options (INVARIANTS, WITNESS, ...) instead of
#                 the defaults bsd.kmod.mk gives an untied module
#   KERNEL_OBJ    the kernel to check symbols against: kernel, kernel.full or
#                 kernel.debug, or a directory holding one (KERNBUILDDIR is
#                 tried too).  Without it, the tree's sources are searched
#                 for a definition of each symbol (a heuristic; said so).
#   OUT           where objects and vpc.ko go (default kmod/build/freebsd)
#   TARGET        clang target (default x86_64-unknown-freebsd14.2)
#   CC LD OBJCOPY NM   default clang-19, ld.lld-19, llvm-objcopy-19, llvm-nm-19
#   JOBS          parallel jobs (default: nproc)
#
# Exit status 0 iff vpc.ko was built with no warning at all and no
# undefined symbol is left unresolved.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kmod=$(cd "$here/../.." && pwd)

: "${FREEBSD_SRC:?set FREEBSD_SRC to a FreeBSD 14 source tree}"
FREEBSD_SRC=$(cd "$FREEBSD_SRC" && pwd)
[ -f "$FREEBSD_SRC/sys/conf/kmod.mk" ] && [ -d "$FREEBSD_SRC/share/mk" ] || {
	echo "compile-check: $FREEBSD_SRC has no sys/conf/kmod.mk or share/mk" >&2
	exit 2
}
OUT=${OUT:-$kmod/build/freebsd}
TARGET=${TARGET:-x86_64-unknown-freebsd14.2}
CC=${CC_FREEBSD:-clang-19}
LD=${LD_FREEBSD:-ld.lld-19}
OBJCOPY=${OBJCOPY_FREEBSD:-llvm-objcopy-19}
NM=${NM_FREEBSD:-llvm-nm-19}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

for t in bmake gawk "$CC" "$LD" "$OBJCOPY" "$NM"; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "compile-check: $t not found" >&2
		exit 2
	}
done

# Tools bsd.kmod.mk expects of a BSD userland, first in PATH:
#  - awk: sys/conf/kmod_syms.awk loops forever under Debian's mawk;
#  - xargs -J%: BSD only; GNU xargs has no -J.
tools=$(mktemp -d "${TMPDIR:-/tmp}/vpc-cc-tools.XXXXXX")
trap 'rm -rf "$tools"' EXIT INT TERM
ln -s "$(command -v gawk)" "$tools/awk"
cat >"$tools/xargs" <<'XARGS'
#!/bin/sh
# xargs -J<repl> cmd args...: run cmd once, <repl> replaced by all of stdin.
case "${1-}" in
-J?*)	repl=${1#-J}; shift ;;
*)	exec /usr/bin/xargs "$@" ;;
esac
set -f
words=$(cat)
cmd=$1; shift
for a in "$@"; do
	if [ "$a" = "$repl" ]; then
		for w in $words; do set -- "$@" "$w"; done
	else
		set -- "$@" "$a"
	fi
	shift
done
exec "$cmd" "$@"
XARGS
chmod +x "$tools/xargs"

mkdir -p "$OUT"
log=$OUT/build.log
set -- -m "$FREEBSD_SRC/share/mk" -C "$kmod" -j "$JOBS" \
	SYSDIR="$FREEBSD_SRC/sys" \
	MACHINE=amd64 MACHINE_ARCH=amd64 MACHINE_CPUARCH=amd64 \
	CC="$CC -target $TARGET" LD="$LD" OBJCOPY="$OBJCOPY" \
	WITHOUT_CTF=yes
if [ -n "${KERNBUILDDIR:-}" ]; then
	KERNBUILDDIR=$(cd "$KERNBUILDDIR" && pwd)
	[ -f "$KERNBUILDDIR/opt_global.h" ] || {
		echo "compile-check: $KERNBUILDDIR has no opt_global.h" >&2
		exit 2
	}
	set -- "$@" KERNBUILDDIR="$KERNBUILDDIR"
fi

echo "compile-check: building vpc.ko in $OUT (target $TARGET${KERNBUILDDIR:+, options of $KERNBUILDDIR})"
# A clean build each time, so that every warning shows up in the log.
rm -f "$OUT"/*.o "$OUT"/.depend* "$OUT"/opt_*.h "$OUT"/vpc.ko "$OUT"/vpc.ko.full \
	"$OUT"/export_syms
status=0
env -u MAKEFLAGS -u MFLAGS PATH="$tools:$PATH" MAKEOBJDIR="$OUT" \
	bmake "$@" >"$log" 2>&1 || status=$?
nwarn=$(grep -c 'warning:' "$log" || true)
if [ "$status" -ne 0 ] || [ ! -f "$OUT/vpc.ko" ]; then
	grep -E 'error:|warning:|\*\*\* ' "$log" | head -50 >&2 || true
	echo "compile-check: FAIL: build failed (exit $status, $nwarn warnings); log: $log" >&2
	exit 1
fi
grep 'warning:' "$log" >&2 || true
echo "compile-check: vpc.ko built: $(wc -c <"$OUT/vpc.ko") bytes, $nwarn warnings"

# ---- Undefined symbols -----------------------------------------------------

undef=$OUT/undefined.txt
"$NM" -u "$OUT/vpc.ko" | awk '{ print $NF }' | sort -u >"$undef"
nundef=$(wc -l <"$undef")

kernel=
if [ -n "${KERNEL_OBJ:-}" ]; then
	for k in "$KERNEL_OBJ" "$KERNEL_OBJ/kernel.full" "$KERNEL_OBJ/kernel.debug" \
	    "$KERNEL_OBJ/kernel"; do
		if [ -f "$k" ]; then kernel=$k; break; fi
	done
	[ -n "$kernel" ] || { echo "compile-check: no kernel in $KERNEL_OBJ" >&2; exit 2; }
elif [ -n "${KERNBUILDDIR:-}" ]; then
	for k in "$KERNBUILDDIR/kernel.full" "$KERNBUILDDIR/kernel.debug" \
	    "$KERNBUILDDIR/kernel"; do
		if [ -f "$k" ]; then kernel=$k; break; fi
	done
fi

missing=$OUT/unresolved.txt
: >"$missing"

# __start_set_X/__stop_set_X bound the module's own linker sets (sysinit,
# sysctl, modmetadata, vnet, pcpu): the kld linker resolves them from the
# module's sections, whatever the kernel has.
is_linker_set() {
	case $1 in __start_set_*|__stop_set_*) return 0 ;; esac
	return 1
}

# No kernel at hand: is there a definition of $1 in the tree?  Function
# definitions start a line (style(9)), some with the name in parentheses
# (malloc); data ends a declaration with its name; copyin and friends are
# ifuncs; VNET_DEFINE/DPCPU_DEFINE variables are vnet_entry_/pcpu_entry_
# symbols; sysctl_<parent>_<name> come from SYSCTL_* macros.
defined_in_tree() {
	sym=$1
	name=$sym
	case $sym in
	vnet_entry_*) name=${sym#vnet_entry_} ;;
	pcpu_entry_*) name=${sym#pcpu_entry_} ;;
	esac
	grep -rqE --include='*.c' --include='*.S' --include='*.s' \
	    "^(\(?${name}\)?\(|[A-Za-z_].*[[:space:]*(]${name}( =|;|\[|\)| __)|.*(DEFINE|_SET|_STATIC)\((.*, *)?${name}[,)]|.*DEFINE_IFUNC\([^,]*, *[^,]*, *${name} *,|${name}:|ENTRY\(${name}\))" \
	    "$FREEBSD_SRC/sys/kern" "$FREEBSD_SRC/sys/net" "$FREEBSD_SRC/sys/netinet" \
	    "$FREEBSD_SRC/sys/netinet6" "$FREEBSD_SRC/sys/vm" "$FREEBSD_SRC/sys/libkern" \
	    "$FREEBSD_SRC/sys/fs/devfs" "$FREEBSD_SRC/sys/security" \
	    "$FREEBSD_SRC/sys/amd64" "$FREEBSD_SRC/sys/x86" 2>/dev/null && return 0
	# taskqueue_<name>: TASKQUEUE_DEFINE(<name>, ...) pastes it together.
	case $sym in
	taskqueue_*)
		grep -qE "^TASKQUEUE_(FAST_)?DEFINE(_THREAD)?\\(${sym#taskqueue_}[,)]" \
		    "$FREEBSD_SRC/sys/kern/subr_taskqueue.c" 2>/dev/null && return 0 ;;
	esac
	# sysctl_<parent>_<name>: try every split of the rest at an underscore.
	case $sym in sysctl_*) ;; *) return 1 ;; esac
	rest=${sym#sysctl_}
	parent=
	while :; do
		case $rest in *_*) ;; *) return 1 ;; esac
		parent=$parent${rest%%_*}_
		rest=${rest#*_}
		if grep -rqE --include='*.c' --include='*.h' \
		    "SYSCTL_(ROOT_NODE\( *[A-Z_]+ *, *${rest} *,|[A-Z0-9_]+\( *${parent%_} *, *[^,]*, *${rest} *,)" \
		    "$FREEBSD_SRC/sys/kern" "$FREEBSD_SRC/sys/net" \
		    "$FREEBSD_SRC/sys/netinet" "$FREEBSD_SRC/sys/vm" 2>/dev/null; then
			return 0
		fi
	done
}

if [ -n "$kernel" ]; then
	"$NM" --defined-only "$kernel" | awk '{ print $NF }' | sort -u >"$OUT/kernel-syms.txt"
	how="defined by $kernel or the module's own linker sets"
else
	how="found defined in $FREEBSD_SRC/sys or the module's linker sets (heuristic: no KERNEL_OBJ)"
fi
while read -r sym; do
	is_linker_set "$sym" && continue
	if [ -n "$kernel" ]; then
		grep -qxF "$sym" "$OUT/kernel-syms.txt" && continue
	else
		defined_in_tree "$sym" && continue
	fi
	echo "$sym" >>"$missing"
done <"$undef"
nmissing=$(wc -l <"$missing")
echo "compile-check: $nundef undefined symbols in vpc.ko, $((nundef - nmissing)) $how"
tr '\n' ' ' <"$undef" | fold -s -w 100 | sed 's/^/  /'
echo
if [ "$nmissing" -ne 0 ]; then
	echo "compile-check: FAIL: not resolved by the kernel:" >&2
	sed 's/^/  /' "$missing" >&2
	exit 1
fi
if [ "$nwarn" -ne 0 ]; then
	echo "compile-check: FAIL: $nwarn warnings" >&2
	exit 1
fi
echo "compile-check: PASS (0 warnings, all $nundef symbols resolved)"
