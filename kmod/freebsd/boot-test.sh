#!/bin/bash
# boot-test.sh: boot a FreeBSD 14 kernel under qemu with our own tiny test
# init (kmod/freebsd/init/vpc_init.c) and vpc.ko on a UFS1 root image, let
# the init drive the module through the real syscalls, and judge the
# console.  The kernel is yours to provide; nothing of FreeBSD is built.
#
#   KERNEL=/path/to/kernel kmod/freebsd/boot-test.sh
#
# Variables:
#   KERNEL     (required) a FreeBSD 14 amd64 kernel that qemu boots with
#              -kernel (PVH), with INET, a virtio-blk root on vtbd0 and the
#              console on COM1; INVARIANTS and WITNESS are what we want
#   VPC_KO     the module to test, as it is (default: compile-check.sh's
#              kmod/build/freebsd/vpc.ko, rebuilt first if it is missing or
#              older than its sources and FREEBSD_SRC is set)
#   WORK       scratch directory (default kmod/build/freebsd-boot)
#   TIMEOUT    seconds before qemu is killed (default 300)
#   SMP MEM    qemu -smp / -m (default 2 / 512)
#   APPEND     extra kernel environment, e.g. "debug.debugger_on_panic=1"
#   CC_FREEBSD clang for the init (default clang-19)
#
# Exit status 0 only if the init's summary says fail=0, nothing panicked,
# WITNESS reported no lock order reversal involving our locks or files,
# M_VPC did not leak on unload, and the guest powered itself off.
set -u

here=$(cd "$(dirname "$0")" && pwd)
kmod=$(cd "$here/.." && pwd)

: "${KERNEL:?set KERNEL to a FreeBSD 14 amd64 kernel qemu can boot with -kernel}"
WORK=${WORK:-$kmod/build/freebsd-boot}
VPC_KO_GIVEN=${VPC_KO:-}
VPC_KO=${VPC_KO:-$kmod/build/freebsd/vpc.ko}
TIMEOUT=${TIMEOUT:-300}
SMP=${SMP:-2}
MEM=${MEM:-512}
CC=${CC_FREEBSD:-clang-19}

die() { echo "boot-test: $*" >&2; exit 2; }
[ -f "$KERNEL" ] || die "no kernel at $KERNEL"
for t in "$CC" makefs qemu-system-x86_64 timeout; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
# The default module is rebuilt when a source is newer than it (and the
# tree to build it with is at hand); a VPC_KO given by the caller is used
# as it is.
if [ -z "${VPC_KO_GIVEN:-}" ] && { [ ! -f "$VPC_KO" ] ||
    [ -n "$(find "$kmod/core" "$kmod/os/freebsd" "$kmod/include" "$kmod/Makefile" \
	-newer "$VPC_KO" -print 2>/dev/null | head -1)" ]; }; then
	if [ -n "${FREEBSD_SRC:-}" ]; then
		OUT=$(dirname "$VPC_KO") "$here/compile-check.sh" >/dev/null ||
			die "compile check failed (run it: FREEBSD_SRC=$FREEBSD_SRC $here/compile-check.sh)"
	elif [ -f "$VPC_KO" ]; then
		echo "boot-test: warning: $VPC_KO is older than its sources (set FREEBSD_SRC to rebuild)" >&2
	else
		die "no $VPC_KO: build it (FREEBSD_SRC=... kmod/freebsd/compile-check.sh) or set VPC_KO"
	fi
fi

mkdir -p "$WORK"
rm -rf "$WORK/root" "$WORK/root.img"
mkdir -p "$WORK/root/sbin" "$WORK/root/dev" "$WORK/root/boot/modules"

# 1. The init: static, no libc, our own syscall stubs.
"$CC" --target=x86_64-unknown-freebsd14 -static -nostdlib -ffreestanding \
	-fno-stack-protector -fno-pic -mno-red-zone -O2 -Wall -Wextra -Werror \
	-fuse-ld=lld -Wl,-e,_start -I"$kmod/include" \
	-o "$WORK/root/sbin/init" "$here/init/vpc_init.c" || die "init did not build"
chmod 555 "$WORK/root/sbin/init"
cp "$VPC_KO" "$WORK/root/boot/modules/vpc.ko"

# 2. UFS1 root: Debian's makefs writes UFS2 superblocks where FreeBSD does
#    not look for them; version=1 mounts.  An empty /dev gets devfs.
makefs -t ffs -o version=1 -s 32m "$WORK/root.img" "$WORK/root" >/dev/null ||
	die "makefs failed"

# 3. Boot.  -no-reboot: a panic (which resets) ends qemu too.
log=$WORK/console.log
qemu=(qemu-system-x86_64 -accel tcg -m "$MEM" -smp "$SMP" -nographic
	-nic none -no-reboot -kernel "$KERNEL" ${APPEND:+-append "$APPEND"}
	-drive "file=$WORK/root.img,format=raw,if=virtio")
echo "boot-test: ${qemu[*]}"
start=$SECONDS
timeout "$TIMEOUT" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' >"$log"
rc=${PIPESTATUS[0]}
echo "boot-test: qemu exited with $rc after $((SECONDS - start)) s; console: $log"

# 4. Judge.
grep -E '^(VPC-CHECK|VPC-BOOT-RESULT|vpc-init:)' "$log"
ok=1
result=$(grep -E '^VPC-BOOT-RESULT pass=[0-9]+ fail=[0-9]+$' "$log" | tail -1)
pass=$(echo "$result" | sed -n 's/.*pass=\([0-9]*\).*/\1/p')
fail=$(echo "$result" | sed -n 's/.*fail=\([0-9]*\).*/\1/p')
if [ -z "$result" ]; then
	echo "boot-test: no VPC-BOOT-RESULT line" >&2; ok=0
elif [ "$fail" != 0 ] || [ "$pass" = 0 ]; then
	echo "boot-test: the init reported pass=$pass fail=$fail" >&2; ok=0
fi
if grep -qE '^(panic:|Fatal trap)' "$log"; then
	echo "boot-test: the kernel panicked:" >&2
	grep -A40 -E '^(panic:|Fatal trap)' "$log" | head -60 >&2
	ok=0
fi
# WITNESS: a reversal is ours if a lock name or a file in its report is.
ours='vpc|vmnic|vpc_fbsd_|vpc_[a-z_]+[.]c'
lors=$(grep -c 'lock order reversal' "$log" || true)
ourlors=$(awk -v ours="$ours" '
	/lock order reversal/ { inblk = 1; hit = 0; next }
	inblk && /^ (1st|2nd|3rd) / { if ($0 ~ ours) hit = 1; next }
	inblk { if (hit) n++; inblk = 0 }
	END { if (inblk && hit) n++; print n + 0 }' "$log")
if [ "$ourlors" != 0 ]; then
	echo "boot-test: $ourlors WITNESS lock order reversal(s) involving vpc:" >&2
	grep -A8 'lock order reversal' "$log" >&2
	ok=0
elif [ "$lors" != 0 ]; then
	echo "boot-test: note: $lors lock order reversal(s) not involving vpc" >&2
fi
if grep -E 'acquiring duplicate lock|sleeping with|sleeping thread|could sleep with' "$log" |
    grep -qE "$ours"; then
	echo "boot-test: WITNESS complained about our locks:" >&2
	grep -E -A4 'acquiring duplicate lock|sleeping with|could sleep with' "$log" >&2
	ok=0
fi
if grep -qE 'memory type vpc leaked|vpc.*still allocated' "$log"; then
	echo "boot-test: M_VPC leaked on unload:" >&2
	grep -E 'memory type vpc leaked|vpc.*still allocated' "$log" >&2
	ok=0
fi
grep -q 'Powering system off' "$log" || { echo "boot-test: the guest did not power off" >&2; ok=0; }
[ "$rc" = 0 ] || { echo "boot-test: qemu exit status $rc" >&2; ok=0; }

if [ $ok = 1 ]; then
	echo "boot-test: PASS ($result)"
	exit 0
fi
echo "boot-test: FAIL ($result)" >&2
tail -40 "$log" >&2
exit 1
