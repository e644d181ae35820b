#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# provision.sh: inside the FreeBSD VM (as root).  Installs what the suite
# needs, fetches the kernel sources the module builds against, builds and
# kldloads vpc.ko, and runs the TypeScript tests on the real syscalls.
#
#   provision.sh all      packages, /usr/src, build, load, test (vagrant up)
#   provision.sh build    build and (re)load vpc.ko
#   provision.sh test     build, load, test
#
# Variables: VPC_NODE (pkg flavour, default node22), VPC_SRC_URL (src.txz of
# the running release), VPC_FREEBSD_TESTS (the test files run on the
# freebsd backend besides test/freebsd.test.ts, which always runs; default:
# seed, bad-input and txn, the ones that need no vpc-hostd).
set -eu

REPO=${REPO:-/vagrant}
NODE=${VPC_NODE:-node22}
step=${1:-all}

log() { printf '==> %s\n' "$*"; }

packages() {
	log "packages: $NODE npm-$NODE"
	env ASSUME_ALWAYS_YES=yes pkg bootstrap -f >/dev/null 2>&1 || true
	env ASSUME_ALWAYS_YES=yes pkg install -y "$NODE" "npm-$NODE" rsync
}

# bsd.kmod.mk needs the kernel sources of the running release in /usr/src.
sources() {
	if [ -f /usr/src/sys/conf/kmod.mk ]; then
		log "/usr/src is there"
		return
	fi
	rel=$(freebsd-version -k | sed 's/-p[0-9]*$//')
	url=${VPC_SRC_URL:-https://download.freebsd.org/releases/$(uname -m)/$rel/src.txz}
	log "fetching $url"
	fetch -o /tmp/src.txz "$url"
	tar -C / -xf /tmp/src.txz
	rm -f /tmp/src.txz
}

build() {
	log "building vpc.ko ($(cc --version | head -1))"
	cd "$REPO/kmod"
	mkdir -p obj
	make clean >/dev/null
	make
	if kldstat -q -m vpc; then
		log "unloading the old vpc.ko"
		kldunload vpc
	fi
	kldload "$REPO/kmod/obj/vpc.ko"
	log "loaded: syscalls vpc_open=$(sysctl -n net.vpc.syscall.vpc_open)" \
	    "vpc_ctl=$(sysctl -n net.vpc.syscall.vpc_ctl)"
}

tests() {
	cd "$REPO"
	log "npm ci"
	npm ci --no-audit --no-fund
	log "tests on the real syscalls"
	status=0
	# shellcheck disable=SC2086
	VPC_BACKEND=freebsd node test/run.mjs test/freebsd.test.ts \
	    ${VPC_FREEBSD_TESTS-test/seed.test.ts test/bad-input.test.ts test/txn.test.ts} || status=$?
	log "net.vpc after the suite: objects=$(sysctl -n net.vpc.objects)" \
	    "handles=$(sysctl -n net.vpc.handles) check=$(sysctl -n net.vpc.check)"
	# The suite must leave nothing behind: then the module unloads.
	if kldunload vpc; then
		log "kldunload vpc: ok (nothing left behind); loading it again"
		kldload "$REPO/kmod/obj/vpc.ko"
	else
		log "kldunload vpc refused: the suite left objects or handles"
		status=1
	fi
	return $status
}

case $step in
all)	packages; sources; build; tests ;;
build)	build ;;
test)	build; tests ;;
*)	echo "usage: $0 all|build|test" >&2; exit 2 ;;
esac
