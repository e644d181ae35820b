/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc-hostd: the vpc core run as a Linux daemon, "the host kernel".
 *
 * It serves the very ABI the FreeBSD module does (vpc_open/vpc_ctl, through
 * libvpc) on a Unix socket that only its own user and root can reach.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpc_core.h"
#include "host_ctl.h"
#include "host_nic.h"
#include "host_vnet.h"
#include "host_upcall.h"
#include "host_vcc.h"
#include "host_loop.h"
#include "host_os.h"
#include "host_proto.h"

static const char usage[] =
"usage: vpc-hostd [--socket PATH] [--upcall-socket PATH]\n"
"                 [--log-level error|warn|info|debug] [--upcall-timeout-ms N]\n"
"                 [--upcall-orphan-timeout-ms N]\n"
"\n"
"Runs the vpc core as a daemon serving vpc_open/vpc_ctl on a Unix socket.\n"
"  --socket PATH         where to listen (default: $VPC_HOSTD_SOCKET, else\n"
"                        /run/vpc/hostd.sock for root, else\n"
"                        $XDG_RUNTIME_DIR/vpc/hostd.sock or /tmp/vpc-UID/hostd.sock)\n"
"  --upcall-socket PATH  where the upcall reader connects (default:\n"
"                        $VPC_UPCALL_SOCKET, else upcall.sock beside --socket)\n"
"  --log-level L         error, warn, info (default) or debug\n"
"  --upcall-timeout-ms N how long an unanswered upcall holds its frames once\n"
"                        a reader has it (default 3000, at least 100)\n"
"  --upcall-orphan-timeout-ms N\n"
"                        how long it waits while no reader is attached, so\n"
"                        that an agent restarting within it loses nothing;\n"
"                        a new reader gets the full timeout for each\n"
"                        (default 30000, never less than the timeout)\n"
"vmnics are TAP devices and vccs UDP sockets in the daemon's network\n"
"namespace.  SIGTERM or SIGINT: close every handle, remove every object,\n"
"exit 0.\n";

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "vpc-hostd: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static int
parse_level(const char *s)
{
	if (strcmp(s, "error") == 0)
		return (VPC_LOG_ERR);
	if (strcmp(s, "warn") == 0)
		return (VPC_LOG_WARN);
	if (strcmp(s, "info") == 0)
		return (VPC_LOG_INFO);
	if (strcmp(s, "debug") == 0)
		return (VPC_LOG_DEBUG);
	return (-1);
}

/* mkdir -p for the socket's directory; directories we make are 0700. */
static void
make_dirs(const char *path)
{
	char dir[PATH_MAX], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			die("cannot create", dir);
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die("cannot create", dir);
}

static int
listen_on(const char *path, int type)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vpc-hostd: socket path too long (max %zu): %s\n",
		    sizeof(sun.sun_path) - 1, path);
		exit(2);
	}
	strcpy(sun.sun_path, path);
	make_dirs(path);

	/* A socket file nobody answers on is left over from a crash. */
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket for", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		fprintf(stderr, "vpc-hostd: another vpc-hostd already serves %s\n",
		    path);
		exit(1);
	}
	if (errno == ECONNREFUSED)
		(void)unlink(path);
	close(fd);

	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket for", path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		die("cannot bind", path);
	umask(old);
	if (chmod(path, 0600) < 0)
		die("cannot chmod", path);
	if (listen(fd, 128) < 0)
		die("cannot listen on", path);
	return (fd);
}

static void
signals_event(struct hsrc *src, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			hloop_stop();
}

static void
signals_free(struct hsrc *src)
{
	(void)src;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "upcall-socket", required_argument, NULL, 'u' },
		{ "upcall-timeout-ms", required_argument, NULL, 't' },
		{ "upcall-orphan-timeout-ms", required_argument, NULL, 'o' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct hsrc sigsrc;
	char defpath[PATH_MAX], defup[PATH_MAX];
	const char *path = NULL, *uppath = NULL;
	struct vpc_sys *sys;
	struct rlimit rl;
	sigset_t mask;
	int c, fd, upfd, error, status = 0;
	long timeout_ms = 0, orphan_ms = 0;
	char why[160];
	char *end;

	while ((c = getopt_long(argc, argv, "s:u:t:o:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'u':
			uppath = optarg;
			break;
		case 't':
		case 'o':
			*(c == 't' ? &timeout_ms : &orphan_ms) = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' ||
			    (c == 't' ? timeout_ms : orphan_ms) < 100 ||
			    (c == 't' ? timeout_ms : orphan_ms) > 3600000) {
				fprintf(stderr, "vpc-hostd: --upcall-%stimeout-ms: expected "
				    "100-3600000, got '%s'\n%s", c == 't' ? "" : "orphan-",
				    optarg, usage);
				return (2);
			}
			break;
		case 'l':
			if ((host_log_level = parse_level(optarg)) < 0) {
				fprintf(stderr, "vpc-hostd: --log-level: expected "
				    "error, warn, info or debug, got '%s'\n%s",
				    optarg, usage);
				return (2);
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return (0);
		default:
			fputs(usage, stderr);
			return (2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vpc-hostd: unexpected argument '%s'\n%s",
		    argv[optind], usage);
		return (2);
	}
	if (path == NULL)
		path = vpc_wire_default_path(defpath, sizeof(defpath));
	/*
	 * Test-only knobs: every Nth TAP write or UDP send fails; a smaller bound
	 * on TAPs still being removed; a file whose existence holds them there.
	 */
	if (getenv("VPC_HOSTD_FAIL_TAP_WRITE_EVERY") != NULL)
		host_fail_tap_write_every = strtoull(getenv("VPC_HOSTD_FAIL_TAP_WRITE_EVERY"), NULL, 10);
	if (getenv("VPC_HOSTD_TAP_BACKLOG") != NULL) {
		unsigned long b = strtoul(getenv("VPC_HOSTD_TAP_BACKLOG"), NULL, 10);

		if (b >= 1 && b < host_tap_backlog_max)
			host_tap_backlog_max = (unsigned)b;
	}
	host_tap_reap_hold = getenv("VPC_HOSTD_TAP_REAP_HOLD");
	if (getenv("VPC_HOSTD_FAIL_UDP_SEND_EVERY") != NULL)
		host_fail_udp_send_every = strtoull(getenv("VPC_HOSTD_FAIL_UDP_SEND_EVERY"), NULL, 10);
	if (uppath == NULL)
		uppath = vpc_wire_upcall_path(path, defup, sizeof(defup));

	/* Every handle is a descriptor here: allow as many as we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (hloop_init() < 0)
		die("epoll", "");
	fd = listen_on(path, SOCK_SEQPACKET);
	upfd = listen_on(uppath, SOCK_STREAM);
	if ((error = vpc_sys_create(&sys)) != 0) {
		fprintf(stderr, "vpc-hostd: cannot start the core: error %d\n",
		    error);
		return (1);
	}
	if (timeout_ms != 0)
		vpc_upcall_set_timeout(sys, (uint32_t)timeout_ms);
	if (orphan_ms != 0)
		vpc_upcall_set_orphan_timeout(sys, (uint32_t)orphan_ms);
	sigsrc.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	sigsrc.fn = signals_event;
	sigsrc.free_fn = signals_free;
	if (sigsrc.fd < 0 || hloop_add(&sigsrc, EPOLLIN) < 0 ||
	    host_ctl_start(sys, fd) < 0 || host_upcall_start(sys, upfd) < 0)
		die("event loop for", path);
	os_log(VPC_LOG_INFO, "serving on %s, upcalls on %s (pid %d)", path,
	    uppath, (int)getpid());

	if (hloop_run() < 0)
		os_log(VPC_LOG_ERR, "event loop failed: %s", strerror(errno));

	host_upcall_stop();
	host_ctl_stop();
	/* Every test that runs a daemon ends here: check the whole graph. */
	if ((error = vpc_sys_check(sys, why, sizeof(why))) != 0) {
		os_log(VPC_LOG_ERR, "invariant violated: %s", why);
		status = 3;
	}
	vpc_sys_teardown(sys);
	hloop_reclaim();
	host_nic_fini();
	(void)unlink(path);
	(void)unlink(uppath);
	if ((error = vpc_sys_destroy(sys)) != 0)
		os_log(VPC_LOG_ERR, "core still busy at exit: error %d", error);
	hloop_retire(&sigsrc);
	hloop_fini();
	os_log(VPC_LOG_INFO, "stopped");
	return (status);
}
