/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd.h: what the files of the FreeBSD glue share.  Nothing outside
 * kmod/os/freebsd includes this; the core sees only vpc_os.h.
 *
 * Files and their one job each:
 *   vpc_fbsd_os.c       allocation, locks, epoch, time, randomness,
 *                       counters, logging, timers
 *   vpc_fbsd_pkt.c      packets are mbuf chains
 *   vpc_fbsd_file.c     handles are file descriptors (our own fileops)
 *   vpc_fbsd_syscalls.c vpc_open(2) and vpc_ctl(2), dynamic syscall slots
 *   vpc_fbsd_nic.c      a vmnic is an Ethernet ifnet ("vmnicN", if_clone)
 *   vpc_fbsd_vcc.c      a vcc is a kernel UDP socket per address family
 *                       (and, for VNI 0, an ifnet taken with the ifhook)
 *   vpc_fbsd_link.c     a vpclink is an ifnet taken with the ifhook
 *   vpc_fbsd_ifhook.c   taking an Ethernet ifnet (the if_bridge hook)
 *   vpc_fbsd_upcall.c   /dev/vpc_upcall, the upcall reader's device
 *   vpc_fbsd_module.c   module events, the gate, net.vpc sysctls, devctl
 */
#ifndef _VPC_FBSD_H_
#define	_VPC_FBSD_H_

MALLOC_DECLARE(M_VPC);
SYSCTL_DECL(_net_vpc);

/*
 * Creating and changing objects needs PRIV_NET_VXLAN: vpc administers a
 * VXLAN overlay, and prison_priv_check() grants that privilege to no jail,
 * vnet or not.  That is what we want while the object table is global (one
 * per kernel, not per vnet): a jail's root must not reconfigure the host's
 * switches.
 */
#define	VPC_PRIV		PRIV_NET_VXLAN

/*
 * The gate (vpc_fbsd_module.c).  Every entry from userland (both syscalls,
 * the upcall device's open, the sysctl handlers) holds it shared while it
 * uses the instance; MOD_UNLOAD takes it exclusive to decide, atomically
 * with respect to them, whether the module is busy.  vpc_fbsd_enter()
 * returns the instance with the gate held, or NULL (gate not held) when
 * the module is loading or unloading.
 */
struct vpc_sys	*vpc_fbsd_enter(void);
void		 vpc_fbsd_exit(void);
/* The instance, without the gate: only for code that holds something that
 * keeps the module busy (a handle, the open upcall device). */
struct vpc_sys	*vpc_fbsd_sys(void);
bool		 vpc_fbsd_busy(void);
bool		 vpc_fbsd_may_read(struct thread *td, bool priv);

/*
 * The core's view of who is calling (os_handle_install).  A descriptor an
 * op returns is reserved with falloc_caps() while the op runs (under the
 * core's control lock) and made live with finit() only after the op has
 * succeeded, outside that lock: see vpc_fbsd_file.c.
 */
struct vpc_caller {
	struct thread	*td;
	struct file	*fp;		/* reserved descriptor, or NULL */
	struct vpc_hdl	*hdl;		/* what it will refer to */
	int		 fd;
	bool		 undo;		/* os_handle_uninstall was called */
};

extern struct fileops vpc_fileops;

/* vpc_fbsd_file.c */
int	vpc_fbsd_handle_open(struct thread *td, struct vpc_sys *sys,
	    struct vpc_hdl *h, int *fdp);
int	vpc_fbsd_handle_get(struct thread *td, int fd, struct file **fpp,
	    struct vpc_hdl **hp);
void	vpc_fbsd_caller_abort(struct vpc_caller *c);
void	vpc_fbsd_caller_commit(struct vpc_caller *c);
void	vpc_fbsd_caller_revoke(struct vpc_caller *c);
void	vpc_fbsd_caller_done(struct vpc_caller *c);

/* vpc_fbsd_syscalls.c: the slots the kernel gave us, for net.vpc. */
int	vpc_fbsd_syscall_slot(int which);

/* vpc_fbsd_nic.c */
int	vpc_fbsd_nic_load(void);
void	vpc_fbsd_nic_unload(void);

/* vpc_fbsd_file.c: the ioctls fcntl(F_SETFL) sends, for handles and the
 * upcall device alike. */
int	vpc_fbsd_fcntl_ioctl(u_long cmd, const void *data);

/* vpc_fbsd_ifhook.c: one ifnet, at most one link and one VNI 0 vcc on it.
 * take: 0 or ENXIO (no such name), ENODEV (not Ethernet), EBUSY (bridge, lagg, another
 * hook, that user's slot taken), the interface's ioctl errors; control
 * context.  output and pass: data path, consume m. */
struct vpc_ifhook;
struct mbuf;
struct vpc_link;
struct vpc_vcc;
int	vpc_ifhook_take(const char *ifname, struct vpc_link *link,
	    struct vpc_vcc *vcc, struct vpc_ifhook **hp, uint8_t mac[6]);
void	vpc_ifhook_release(struct vpc_ifhook *h, bool link);
int	vpc_ifhook_output(struct vpc_ifhook *h, struct mbuf *m);
void	vpc_ifhook_pass(struct mbuf *m);
void	vpc_fbsd_ifhook_load(void);
void	vpc_fbsd_ifhook_unload(void);

/* vpc_fbsd_upcall.c */
int	vpc_fbsd_upcall_load(struct vpc_sys *sys);
void	vpc_fbsd_upcall_unload(void);
bool	vpc_fbsd_upcall_busy(void);

/* vpc_fbsd_os.c */
uint64_t vpc_fbsd_log_dropped(void);
void	vpc_fbsd_epoch_drain(void);

/* Packets are mbufs; the core's type is opaque. */
static __inline struct mbuf *
vpc_pkt2m(struct vpc_pkt *p)
{
	return ((struct mbuf *)(void *)p);
}

static __inline const struct mbuf *
vpc_cpkt2m(const struct vpc_pkt *p)
{
	return ((const struct mbuf *)(const void *)p);
}

static __inline struct vpc_pkt *
vpc_m2pkt(struct mbuf *m)
{
	return ((struct vpc_pkt *)(void *)m);
}

#endif /* !_VPC_FBSD_H_ */
