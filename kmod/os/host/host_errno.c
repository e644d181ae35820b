/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_errno.c: the host kernel's wire carries FreeBSD's errno numbers (the
 * ABI's own); libvpc hands callers the local ones.
 */
#include <errno.h>

#include "vpc_os.h"

int vpc_errno_from_wire(int e);

int
vpc_errno_from_wire(int e)
{
	switch (e) {
	case VPC_EPERM:         return (EPERM);
	case VPC_ENOENT:        return (ENOENT);
	case VPC_ENXIO:         return (ENXIO);
	case VPC_E2BIG:         return (E2BIG);
	case VPC_EBADF:         return (EBADF);
	case VPC_ENOMEM:        return (ENOMEM);
	case VPC_EACCES:        return (EACCES);
	case VPC_EBUSY:         return (EBUSY);
	case VPC_EEXIST:        return (EEXIST);
	case VPC_ENODEV:        return (ENODEV);
	case VPC_EINVAL:        return (EINVAL);
	case VPC_EMFILE:        return (EMFILE);
	case VPC_ENOTTY:        return (ENOTTY);
	case VPC_EFBIG:         return (EFBIG);
	case VPC_ENOSPC:        return (ENOSPC);
	case VPC_ERANGE:        return (ERANGE);
	case VPC_EAGAIN:        return (EAGAIN);
	case VPC_EALREADY:      return (EALREADY);
	case VPC_EMSGSIZE:      return (EMSGSIZE);
	case VPC_EOPNOTSUPP:    return (EOPNOTSUPP);
	case VPC_EAFNOSUPPORT:  return (EAFNOSUPPORT);
	case VPC_EADDRINUSE:    return (EADDRINUSE);
	case VPC_EADDRNOTAVAIL: return (EADDRNOTAVAIL);
	case VPC_ENOBUFS:       return (ENOBUFS);
	case VPC_ETIMEDOUT:     return (ETIMEDOUT);
	case VPC_ESTALE:        return (ESTALE);
	case VPC_EIDRM:         return (EIDRM);
	case VPC_EOVERFLOW:     return (EOVERFLOW);
	case VPC_EPROTO:        return (EPROTO);
	default:                return (EIO);   /* a number we do not know */
	}
}
