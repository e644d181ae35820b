#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# boot-test.sh: boot a FreeBSD 14 kernel under qemu with our own tiny test
# init (kmod/tests/boot/init/*.c) and vpc.ko on a UFS1 root image, let the
# init drive the module through the real syscalls, and judge the console.
# The kernel is yours to provide; nothing of FreeBSD is built.
#
#   KERNEL=/path/to/kernel kmod/tests/boot/boot-test.sh
#
# What the kernel needs (kmod/README.md has the details):
#   - amd64, bootable by qemu -kernel (PVH: a GENERIC-like or FIRECRACKER
#     config), console on COM1, virtio_pci + virtio_blk (the root is vtbd0);
#   - INET, INET6, VIMAGE, bpf, COMPAT_FREEBSD32, and NETGRAPH,
#     NETGRAPH_SOCKET, NETGRAPH_ETHER compiled in (the image has no other
#     modules): the bhyve attach checks need them;
#   - ACPI enabled (hint.acpi.0.disabled=0), or RB_POWEROFF reboots instead
#     of powering off; a calibrated TSC under TCG
#     (machdep.disable_tsc_calibration=0; FIRECRACKER turns it off and an
#     INVARIANTS+SMP kernel then panics in lapic_init);
#   - INVARIANTS and WITNESS are what we want.
#
# Variables:
#   KERNEL     (required) the kernel
#   VPC_KO     the module to test (default: compile-check.sh's
#              kmod/build/freebsd/vpc.ko).  Older than its sources, it is
#              rebuilt into its own directory when FREEBSD_SRC is set (with
#              KERNBUILDDIR if set), else the test fails (ALLOW_STALE_KO=1:
#              only warn).  Missing, it is built the same way.
#   WORK       scratch directory (default kmod/build/freebsd-boot)
#   TIMEOUT    seconds before qemu is killed (default 300)
#   SMP MEM    qemu -smp / -m (default 2 / 512)
#   APPEND     more kernel environment, after the defaults (a later value
#              wins): debug.debugger_on_panic=0 kern.panic_reboot_wait_time=0
#              (a panic ends the run at once instead of waiting in ddb for
#              TIMEOUT) vfs.root.mountfrom=ufs:/dev/vtbd0 (no mountroot>
#              prompt).  A mountroot> or db> prompt still ends the run.
#   CC_FREEBSD clang for the init (default clang-19)
#
# Exit status 0 only if the init's summary says fail=0, nothing panicked,
# WITNESS reported no lock order reversal involving our locks or files,
# M_VPC did not leak on unload, and the guest powered itself off.
set -u

here=$(cd "$(dirname "$0")" && pwd)
kmod=$(cd "$here/../.." && pwd)

: "${KERNEL:?set KERNEL to a FreeBSD 14 amd64 kernel qemu can boot with -kernel}"
WORK=${WORK:-$kmod/build/freebsd-boot}
VPC_KO=${VPC_KO:-$kmod/build/freebsd/vpc.ko}
TIMEOUT=${TIMEOUT:-300}
SMP=${SMP:-2}
MEM=${MEM:-512}
CC=${CC_FREEBSD:-clang-19}
DEFAULT_APPEND="debug.debugger_on_panic=0 kern.panic_reboot_wait_time=0 vfs.root.mountfrom=ufs:/dev/vtbd0"

die() { echo "boot-test: $*" >&2; exit 2; }
[ -f "$KERNEL" ] || die "no kernel at $KERNEL"
for t in "$CC" makefs qemu-system-x86_64 timeout; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done

# The module, never used stale: a module older than the sources the init
# is built from tests the wrong code (the init always is rebuilt).
newer=
if [ -f "$VPC_KO" ]; then
	newer=$(find "$kmod/core" "$kmod/os/freebsd" "$kmod/include" "$kmod/Makefile" \
	    -newer "$VPC_KO" -type f -print 2>/dev/null | head -1)
fi
if [ ! -f "$VPC_KO" ] || [ -n "$newer" ]; then
	why="missing"
	[ -f "$VPC_KO" ] && why="older than $newer"
	if [ -n "${FREEBSD_SRC:-}" ]; then
		echo "boot-test: $VPC_KO is $why: rebuilding it"
		OUT=$(dirname "$VPC_KO") "$here/compile-check.sh" >/dev/null ||
			die "compile check failed (run it: FREEBSD_SRC=$FREEBSD_SRC $here/compile-check.sh)"
		[ -f "$VPC_KO" ] || die "the compile check made no $VPC_KO"
	elif [ -f "$VPC_KO" ] && [ -n "${ALLOW_STALE_KO:-}" ]; then
		echo "boot-test: warning: $VPC_KO is $why (ALLOW_STALE_KO)" >&2
	else
		die "$VPC_KO is $why: set FREEBSD_SRC to rebuild it (or ALLOW_STALE_KO=1)"
	fi
fi

mkdir -p "$WORK"
rm -rf "$WORK/root" "$WORK/root.img"
mkdir -p "$WORK/root/sbin" "$WORK/root/dev" "$WORK/root/boot/modules"

# 1. The init: static, no libc, our own syscall stubs; and a 32-bit
#    program it runs when the toolchain can build one.
"$CC" --target=x86_64-unknown-freebsd14 -static -nostdlib -ffreestanding \
	-fno-stack-protector -fno-pic -mno-red-zone -O2 -Wall -Wextra -Werror \
	-fuse-ld=lld -Wl,-e,_start -I"$kmod/include" \
	-o "$WORK/root/sbin/init" "$here"/init/*.c || die "init did not build"
chmod 555 "$WORK/root/sbin/init"
if "$CC" --target=i386-unknown-freebsd14 -static -nostdlib -ffreestanding \
	-fno-stack-protector -fno-pic -O2 -Wall -Wextra -Werror \
	-fuse-ld=lld -Wl,-e,_start \
	-o "$WORK/root/sbin/vpc_init32" "$here/init32/vpc_init32.c" 2>"$WORK/init32.log"; then
	chmod 555 "$WORK/root/sbin/vpc_init32"
else
	echo "boot-test: note: no 32-bit test program ($WORK/init32.log)" >&2
fi
cp "$VPC_KO" "$WORK/root/boot/modules/vpc.ko"

# 2. UFS1 root: Debian's makefs writes UFS2 superblocks where FreeBSD does
#    not look for them; version=1 mounts.  An empty /dev gets devfs.
makefs -t ffs -o version=1 -s 32m "$WORK/root.img" "$WORK/root" >/dev/null ||
	die "makefs failed"

# 3. Boot.  -no-reboot: a panic (which resets) ends qemu too.  A prompt
#    nobody will answer (mountroot>, db>) ends it at once.
log=$WORK/console.log
append="$DEFAULT_APPEND${APPEND:+ $APPEND}"
qemu=(qemu-system-x86_64 -accel tcg -m "$MEM" -smp "$SMP" -nographic
	-nic none -no-reboot -kernel "$KERNEL" -append "$append"
	-drive "file=$WORK/root.img,format=raw,if=virtio")
echo "boot-test: ${qemu[*]}"
start=$SECONDS
timeout "$TIMEOUT" "${qemu[@]}" </dev/null >"$log.raw" 2>&1 &
qpid=$!
stuck=
while kill -0 "$qpid" 2>/dev/null; do
	if grep -qaE '^(mountroot>|db>)' "$log.raw"; then
		stuck=$(grep -m1 -aoE '^(mountroot>|db>)' "$log.raw")
		kill "$qpid" 2>/dev/null	# timeout(1) passes it on to qemu
		break
	fi
	sleep 1
done
wait "$qpid"
rc=$?
tr -d '\r' <"$log.raw" >"$log"
rm -f "$log.raw"
echo "boot-test: qemu exited with $rc after $((SECONDS - start)) s; console: $log"

# 4. Judge.
grep -E '^(VPC-CHECK|VPC-BOOT-RESULT|vpc-init:)' "$log"
ok=1
if [ -n "$stuck" ]; then
	echo "boot-test: the kernel stopped at a '$stuck' prompt (see the kernel requirements at the top)" >&2
	ok=0
fi
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
	echo "boot-test: PASS ($result, SMP=$SMP)"
	exit 0
fi
echo "boot-test: FAIL ($result, SMP=$SMP)" >&2
tail -40 "$log" >&2
exit 1
